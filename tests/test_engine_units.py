"""Unit tests of the engine's pure parts: tags, targets, env, module names,
config parsing, wheel writing and RECORD."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest

from maturin_nox.config import GlobPattern, MaturinConfig
from maturin_nox.errors import ConfigError, WheelError
from maturin_nox.interpreters import Interpreter
from maturin_nox.plan import cargo_env, plan_targets, pyo3_python
from maturin_nox.project import Bindings, _module_name
from maturin_nox.stable_abi import StableAbi, crate_stable_abis
from maturin_nox.wheel import WheelWriter, compress_tags, read_wheel, record_hash, wheel_filename

CP312 = Interpreter(
    executable=Path("/opt/py312/bin/python3.12"),
    implementation="cpython",
    version=(3, 12, 1),
    abiflags="",
    ext_suffix=".cpython-312-x86_64-linux-gnu.so",
    soabi="cpython-312-x86_64-linux-gnu",
    platform="linux-x86_64",
    system="linux",
    machine="x86_64",
    pointer_width=64,
    gil_disabled=False,
    base_prefix="/opt/py312",
    prefix="/opt/py312",
)
CP39 = replace(
    CP312,
    executable=Path("/opt/py39/bin/python3.9"),
    version=(3, 9, 18),
    ext_suffix=".cpython-39-x86_64-linux-gnu.so",
    soabi="cpython-39-x86_64-linux-gnu",
)
PP39 = replace(
    CP39,
    executable=Path("/usr/bin/pypy3"),
    implementation="pypy",
    ext_suffix=".pypy39-pp73-x86_64-linux-gnu.so",
    soabi="pypy39-pp73-x86_64-linux-gnu",
)


class FakeProject:
    def __init__(self, bindings: Bindings, config: MaturinConfig | None = None) -> None:
        self.bindings = bindings
        self.config = config or MaturinConfig()
        self.features: tuple = ()
        self.conditional_features: tuple = ()


def tags(targets: Any) -> list:
    return [t.tag("linux_x86_64") for t in targets]


def test_one_target_per_interpreter_with_cpython_and_pypy_tags() -> None:
    targets = plan_targets(FakeProject(Bindings("pyo3")), [CP39, CP312, PP39])  # type: ignore[arg-type]
    assert tags(targets) == [
        "cp39-cp39-linux_x86_64",
        "cp312-cp312-linux_x86_64",
        "pp39-pypy39_pp73-linux_x86_64",
    ]
    assert len({t.key for t in targets}) == 3


def test_abi3_groups_cpython_into_one_target_and_keeps_pypy_apart() -> None:
    targets = plan_targets(FakeProject(Bindings("pyo3", True, (3, 8))), [CP312, CP39, PP39])  # type: ignore[arg-type]
    assert tags(targets) == ["cp38-abi3-linux_x86_64", "pp39-pypy39_pp73-linux_x86_64"]
    assert targets[0].interpreter == CP39  # the oldest builds the abi3 module
    assert targets[0].ext_suffix == ".abi3.so"
    assert set(targets[0].serves) == {CP39, CP312}


def test_cffi_and_bin_get_one_py3_none_target() -> None:
    for kind in ("cffi", "bin"):
        (target,) = plan_targets(FakeProject(Bindings(kind)), [CP39, CP312])  # type: ignore[arg-type]
        assert target.tag("linux_x86_64") == "py3-none-linux_x86_64"


def test_abi3_features_give_the_lowest_version() -> None:
    abi3t, abi3 = crate_stable_abis(
        {"pyo3": ["abi3", "abi3-py38", "abi3-py39", "abi3-py310", "default"]}
    )
    assert (abi3t, abi3) == (None, StableAbi("abi3", (3, 8)))
    assert crate_stable_abis({"pyo3": ["macros"]}) == (None, None)


def test_pyo3_environment_is_set_but_user_values_win(monkeypatch) -> None:
    (target,) = plan_targets(FakeProject(Bindings("pyo3")), [CP312])  # type: ignore[arg-type]
    monkeypatch.delenv("PYO3_PYTHON", raising=False)
    env = cargo_env(FakeProject(Bindings("pyo3")), target)  # type: ignore[arg-type]
    assert env["PYO3_PYTHON"].endswith("python3.12")
    assert env["PYO3_ENVIRONMENT_SIGNATURE"] == "cpython-3.12-64bit"
    assert env["PYO3_BUILD_EXTENSION_MODULE"] == "1"
    assert "PYTHON_SYS_EXECUTABLE" not in env
    monkeypatch.setenv("PYO3_PYTHON", "/my/python")
    env = cargo_env(FakeProject(Bindings("rust-cpython")), target)  # type: ignore[arg-type]
    assert env["PYO3_PYTHON"] == "/my/python"
    assert env["PYTHON_SYS_EXECUTABLE"].endswith("python3.12")


def test_pyo3_python_is_a_venvs_own_only_when_a_local_build_script_may_run_it(
    tmp_path: Path,
) -> None:
    base = tmp_path / "base" / "bin" / "python3.12"
    base.parent.mkdir(parents=True)
    base.write_text("")
    alias = base.parent / "python3"
    alias.symlink_to(base.name)
    venv = tmp_path / "venv" / "bin" / "python"
    venv.parent.mkdir(parents=True)
    venv.symlink_to(base)
    (tmp_path / "venv" / "pyvenv.cfg").write_text(f"home = {base.parent}\n")

    def project(*packages: Dict[str, Any]) -> Any:
        return SimpleNamespace(cargo_metadata={"packages": list(packages)})

    lib = {"kind": ["cdylib"]}
    build = {"kind": ["custom-build"]}
    plain = project({"source": None, "targets": [lib]})
    # a build script from crates.io reads the interpreter's configuration only
    registry = project(
        {"source": None, "targets": [lib]}, {"source": "registry+x", "targets": [build]}
    )
    scripted = project({"source": None, "targets": [lib, build]})
    real = os.path.realpath(base)
    assert pyo3_python(plain, venv) == pyo3_python(registry, venv) == real
    assert pyo3_python(scripted, venv) == str(venv)
    assert pyo3_python(scripted, alias) == real  # not a venv: the same interpreter, one name


@pytest.mark.parametrize(
    "config, manifest, pyproject, expected",
    [
        (
            MaturinConfig(module_name="pkg._native"),
            {"lib": {"name": "libname"}},
            {"project": {"name": "p"}},
            "pkg._native",
        ),
        (MaturinConfig(), {"lib": {"name": "libname"}}, {"project": {"name": "p"}}, "libname"),
        (MaturinConfig(), {}, {"project": {"name": "my.project"}}, "my.project"),  # as written
        (MaturinConfig(), {}, None, "crate_name"),
    ],
)
def test_module_name_precedence_is_maturins(config, manifest, pyproject, expected) -> None:
    name = _module_name(
        config, manifest, pyproject, {"name": "crate_name"}, "pyo3", Path("Cargo.toml"), None
    )
    assert name == expected


@pytest.mark.parametrize(
    "pyproject, key",
    [({"project": {"name": "my-project"}}, "project.name"), (None, "package.name")],
)
def test_a_module_name_with_a_minus_is_refused_naming_where_it_comes_from(pyproject, key) -> None:
    # maturin takes project.name and the package name as written, never with '-' replaced
    with pytest.raises(ConfigError, match=rf"'my-project' \(from {key} in .*\) contains a minus"):
        _module_name(
            MaturinConfig(),
            {},
            pyproject,
            {"name": "my-project"},
            "cffi",
            Path("Cargo.toml"),
            Path("pyproject.toml"),
        )
    # a binary's name is never imported: maturin accepts it, so do we
    assert (
        _module_name(
            MaturinConfig(), {}, pyproject, {"name": "my-project"}, "bin", Path("Cargo.toml"), None
        )
        == "my-project"
    )


def _config(table: Dict[str, Any]) -> MaturinConfig:
    return MaturinConfig.from_pyproject({"tool": {"maturin": table}}, Path("pyproject.toml"))


def test_config_reads_every_key_type_checked() -> None:
    cfg = _config(
        {
            "bindings": "pyo3",
            "features": ["a", "b"],
            "include": ["x/*.txt", {"path": "y", "format": "sdist"}],
            "rustc-args": ["-C", "opt-level=1"],
            "strip": True,
        }
    )
    assert cfg.features == ("a", "b")
    assert cfg.include == (GlobPattern("x/*.txt"), GlobPattern("y", frozenset({"sdist"})))
    assert cfg.strip and cfg.rustc_args == ("-C", "opt-level=1")
    with pytest.raises(ConfigError, match=r"pyproject.toml: tool.maturin.bindings is 'pyo4'"):
        _config({"bindings": "pyo4"})
    with pytest.raises(ConfigError, match=r"tool.maturin.features must be a list of feature names"):
        _config({"features": [1]})
    with pytest.raises(ConfigError, match=r"tool.maturin.strip must be true or false"):
        _config({"strip": "yes"})


def test_older_keys_still_work_with_a_warning_naming_the_new_key(caplog) -> None:
    cfg = _config({"manylinux": "2014", "skip-auditwheel": True, "sdist-include": ["a.txt"]})
    assert cfg.compatibility == "2014"
    assert cfg.auditwheel == "skip"
    assert cfg.include == (GlobPattern("a.txt", frozenset({"sdist"})),)
    text = caplog.text
    assert "use tool.maturin.compatibility" in text
    assert 'tool.maturin.auditwheel = "skip"' in text
    assert "tool.maturin.include" in text


def test_compressed_tags_and_file_name() -> None:
    assert compress_tags(["cp38-abi3-manylinux_2_17_x86_64", "cp38-abi3-manylinux2014_x86_64"]) == (
        "cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"
    )
    assert (
        wheel_filename("My.Pkg-name", "1.0", ["py3-none-any"]) == "my_pkg_name-1.0-py3-none-any.whl"
    )


def test_wheel_writer_writes_record_last_with_hashes_and_is_atomic(tmp_path: Path) -> None:
    w = WheelWriter(tmp_path, "demo", "1.0", ["py3-none-any"])
    w.add_bytes("demo/__init__.py", "x = 1\n")
    w.add_bytes("demo-1.0.data/scripts/tool", b"#!/bin/sh\n", executable=True)
    w.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    path = w.finish()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[-1] == "demo-1.0.dist-info/RECORD"
        rows = list(csv.reader(io.StringIO(zf.read(names[-1]).decode())))
        assert ["demo/__init__.py", record_hash(b"x = 1\n"), "6"] in rows
        assert zf.getinfo("demo-1.0.data/scripts/tool").external_attr >> 16 & 0o111
    contents = read_wheel(path)
    assert contents.wheel_tags() == ["py3-none-any"]


def test_failed_wheel_write_leaves_nothing(tmp_path: Path) -> None:
    w = WheelWriter(tmp_path, "demo", "1.0", ["py3-none-any"])
    with pytest.raises(WheelError):
        w.add_file("demo/missing.py", tmp_path / "nope.py")
        w.finish()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(WheelError, match="not a safe path"):
        w.add_bytes("../evil.py", b"")


def test_read_wheel_refuses_a_record_mismatch(tmp_path: Path) -> None:
    w = WheelWriter(tmp_path, "demo", "1.0", ["py3-none-any"])
    w.add_bytes("demo/__init__.py", "x = 1\n")
    w.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    path = w.finish()
    tampered = tmp_path / "t" / path.name
    tampered.parent.mkdir()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"x = 2\n" if item.filename == "demo/__init__.py" else data)
    with pytest.raises(WheelError, match="does not match its RECORD hash"):
        read_wheel(tampered)


def _resolve(edges: Dict[str, Any]) -> Dict[str, Any]:
    """A cargo metadata with packages named as their ids and the given dependency edges."""
    nodes = [
        {
            "id": pid,
            "deps": [
                {"pkg": dep, "dep_kinds": [{"kind": kind, "target": None}]} for dep, kind in deps
            ],
        }
        for pid, deps in edges.items()
    ]
    return {"packages": [{"id": pid, "name": pid} for pid in edges], "resolve": {"nodes": nodes}}


GRAPH = _resolve(
    {
        "root": [("pyo3", None), ("criterion", "dev")],
        "pyo3": [("pyo3-build-config", "build"), ("libc", None), ("pyo3-macros", None)],
        "pyo3-macros": [("syn", None), ("pyo3-build-config", "build")],
        "pyo3-build-config": [("target-lexicon", None)],
        "syn": [("proc-macro2", None)],
        "proc-macro2": [],
        "libc": [],
        "target-lexicon": [],
        "criterion": [],
    }
)


def test_the_interpreter_independent_packages_are_those_no_config_crate_reaches() -> None:
    from maturin_nox.crate_graph import interpreter_independent

    found = interpreter_independent(GRAPH, "root")
    # dev-dependencies are not built; pyo3-build-config and its users are per interpreter
    assert sorted(found) == ["libc", "proc-macro2", "syn", "target-lexicon"]
    no_config = _resolve({"root": [("libc", None)], "libc": []})
    assert interpreter_independent(no_config, "root") == frozenset()


def test_the_first_builds_progress_counts_what_a_finished_unit_needed() -> None:
    from maturin_nox.builder import _Progress

    progress = _Progress(GRAPH, frozenset({"libc", "proc-macro2", "syn", "target-lexicon"}))
    progress.saw("target-lexicon", ("lib",))
    # pyo3's build script needs only its build-dependencies: syn and libc may still compile
    progress.saw("pyo3", ("custom-build",))
    assert progress.pending == {"libc", "proc-macro2", "syn"}
    progress.saw("syn", ("lib",))  # syn's library: proc-macro2 was built before it
    assert progress.pending == {"libc"} and not progress.ready.is_set()
    progress.saw("libc", ("lib",))
    assert progress.ready.is_set()


def test_another_projects_build_seeds_only_its_registry_crates_and_never_a_busy_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold target folder copies, from the newest noted build of its configuration, the
    units of the crates it asks for in the profile it builds; a source a build holds is
    passed over, and one gone from disk drops out of the record."""
    from maturin_nox import seeding
    from maturin_nox.locks import exclusive, if_free

    monkeypatch.setenv("MATURIN_NOX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MATURIN_NOX_SEED", "1")
    name, digest = "cp312-cp312-0123456789", "0123456789abcdef"
    source = tmp_path / "a" / "target" / "maturin-nox" / name
    layout = [
        "CACHEDIR.TAG",
        f"release/.fingerprint/syn-{digest}/lib-syn",
        f"release/.fingerprint/proc-macro2-{digest}/lib-proc_macro2",
        f"release/.fingerprint/own-{digest}/lib-own",
        f"release/deps/libsyn-{digest}.rlib",
        f"release/deps/syn-{digest}.d",
        f"release/deps/liblibc-{digest}.rmeta",
        f"release/deps/libc-{digest}.d",
        f"release/deps/libproc_macro2-{digest}.rlib",
        f"release/deps/libown-{digest}.so",
        f"release/build/libc-{digest}/out/generated.rs",
        f"release/build/own-{digest}/output",
        "release/libown.so",
        "release/.cargo-lock",
        f"release/incremental/syn-{digest}/s",
        f"debug/.fingerprint/syn-{digest}/lib-syn",
    ]
    for relative in layout:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(relative)
    old = source / "release" / "deps" / f"libsyn-{digest}.rlib"
    os.utime(old, (1_000_000_000, 1_000_000_000))
    assert seeding.seed_shared(tmp_path / "b" / name, ["syn"], "release") is None  # not noted
    seeding.record_built(source)
    dest = tmp_path / "b" / "target" / "maturin-nox" / name
    # built by another toolchain than rustup picks where this build's cargo runs
    stdout = "rustc 1.0.0 (a59807616 2015-05-15)\nbinary: rustc\n"
    info = {"rustc_fingerprint": 1, "outputs": {"1": {"stdout": stdout}}, "successes": {}}
    (source / ".rustc_info.json").write_text(json.dumps(info))
    assert seeding.seed_shared(dest, ["syn"], "release", cwd=tmp_path) is None
    (source / ".rustc_info.json").unlink()
    with exclusive(source.with_name(source.name + ".lock")):  # a build holds it
        assert seeding.seed_shared(dest, ["syn", "libc", "proc-macro2"], "release") is None
    assert not (tmp_path / "b").exists()
    with if_free(source.with_name(source.name + ".lock")) as free:  # another one copying
        assert free
        wanted = ["syn", "libc", "proc-macro2"]
        assert seeding.seed_shared(dest, wanted, "release", cwd=tmp_path) == source
    copied = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert copied == sorted(
        [
            "CACHEDIR.TAG",
            f"release/.fingerprint/proc-macro2-{digest}/lib-proc_macro2",
            f"release/.fingerprint/syn-{digest}/lib-syn",
            f"release/build/libc-{digest}/out/generated.rs",
            f"release/deps/libc-{digest}.d",
            f"release/deps/liblibc-{digest}.rmeta",
            f"release/deps/libproc_macro2-{digest}.rlib",
            f"release/deps/libsyn-{digest}.rlib",
            f"release/deps/syn-{digest}.d",
        ]
    )
    copy = dest / "release" / "deps" / f"libsyn-{digest}.rlib"
    assert copy.stat().st_mtime == 1_000_000_000 and copy.stat().st_ino != old.stat().st_ino
    assert [p.name for p in dest.parent.iterdir()] == [name]  # no staging folder, no owners
    # local seeding only, or none: the same cold folder gets nothing
    for value in ("local", "0"):
        monkeypatch.setenv("MATURIN_NOX_SEED", value)
        assert seeding.seed_shared(tmp_path / "c" / name, ["syn"], "release") is None
    monkeypatch.setenv("MATURIN_NOX_SEED", "1")
    shutil.rmtree(source)
    assert seeding.shared_sources(tmp_path / "d" / name) == []
    assert list((tmp_path / "cache" / "built-targets").iterdir()) == []


def test_a_process_killed_while_seeding_from_another_project_leaves_no_half_folder(
    tmp_path: Path,
) -> None:
    """SIGKILL in the middle of the copy: the cold folder is not there (the half copy is in
    a staging folder beside it), and the next seeding sweeps that and puts the whole copy."""
    name, digest = "cp312-cp312-0123456789", "0123456789abcdef"
    source = tmp_path / "a" / name
    for relative in (
        "CACHEDIR.TAG",
        f"debug/deps/libsyn-{digest}.rlib",
        f"debug/.fingerprint/syn-{digest}/lib-syn",
    ):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(relative)
    dest = tmp_path / "b" / name
    script = (
        "import sys; from pathlib import Path; from maturin_nox import seeding; "
        f"seeding.record_built(Path({str(source)!r})); "
        f"print(seeding.seed_shared(Path({str(dest)!r}), ['syn'], 'debug'))"
    )
    env = {**os.environ, "MATURIN_NOX_CACHE_DIR": str(tmp_path / "cache"), "MATURIN_NOX_SEED": "1"}
    killed = subprocess.run(
        [sys.executable, "-c", script], env={**env, "MATURIN_NOX_FAULT": "build:seeding"}
    )
    assert killed.returncode == -signal.SIGKILL
    assert [p.name.startswith(".maturin-nox-staging-") for p in dest.parent.iterdir()] == [True]
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert again.stdout.strip() == str(source), again.stderr
    assert [p.name for p in dest.parent.iterdir()] == [name]
    assert (dest / "debug" / "deps" / f"libsyn-{digest}.rlib").is_file()


def test_an_unknown_seeding_setting_is_named_once_and_seeds_as_the_default(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from maturin_nox import seeding

    monkeypatch.setenv("MATURIN_NOX_SEED", "loca")
    with caplog.at_level("WARNING", logger="maturin_nox"):
        assert seeding.mode() == seeding.mode() == "machine"
    assert [r.getMessage() for r in caplog.records] == [
        "MATURIN_NOX_SEED=loca is not 0, local or 1: seeding as with 1"
    ]
