"""maturin's flags on real builds: the cargo command lines they make (a logging cargo
shim), --target, build --sdist, compression methods, --include-debuginfo,
--sbom-include, develop -G, --pgo's instrumented phase and its failures."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import CRATES, TARGET, pip_install, pyenv_python, run_check

from maturin_nox import cli
from maturin_nox.venv import create
from maturin_nox.wheel import WheelWriter, read_wheel

pytestmark = pytest.mark.slow

PYTHON = "3.12"  # shared with the other build tests: the dev-profile cache is warm
HOST = "x86_64-unknown-linux-gnu"
METHODS = {
    "stored": zipfile.ZIP_STORED,
    "deflated": zipfile.ZIP_DEFLATED,
    "bzip2": zipfile.ZIP_BZIP2,
}


def copy_crate(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(CRATES / name, target, ignore=shutil.ignore_patterns("target", "*.so"))
    return target


@pytest.fixture()
def cargo_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$CARGO is a shim that logs every cargo command line (one JSON list a line)."""
    real = shutil.which("cargo")
    assert real is not None
    log = tmp_path / "cargo-calls.jsonl"
    shim = tmp_path / "cargo-shim"
    shim.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    shim.chmod(0o755)
    monkeypatch.setenv("CARGO", str(shim))
    return log


def logged(log: Path) -> List[List[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def main(*argv: str) -> int:
    return cli.main(list(argv))


def build(manifest: Path, out: Path, *flags: str, command: str = "build") -> int:
    """``maturin-nox build -m MANIFEST -i 3.12 --target-dir TARGET -o OUT FLAGS...`` in-process."""
    base = ["-m", str(manifest), "-i", PYTHON, "--target-dir", str(TARGET), "-o", str(out)]
    return main(command, *base, *flags)


def test_cargo_pass_through_reaches_cargo_and_metadata_gets_only_the_resolve_flags(
    tmp_path: Path, cargo_log: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    out = tmp_path / "out"
    flags = ["--locked", "--offline", "-j", "1", "--timings", "--color", "never", "-v"]
    flags += ["--ignore-rust-version", "-F", "pyo3/macros", "--", "-C", "target-cpu=native"]
    assert build(crate / "Cargo.toml", out, *flags) == 0
    calls = logged(cargo_log)
    metadata = [c for c in calls if c[0] == "metadata"]
    builds = [c for c in calls if c[0] == "rustc"]
    assert len(metadata) == 1 and len(builds) == 1
    (meta,) = metadata
    assert "--locked" in meta and "--offline" in meta
    assert meta[meta.index("--features") + 1] == "pyo3/macros"
    # no --target: the metadata is unfiltered, as maturin reads it
    assert "--filter-platform" not in meta
    for build_only in ("--jobs", "--timings", "--color", "--ignore-rust-version", "-v", "--"):
        assert build_only not in meta
    (call,) = builds
    assert call[call.index("--jobs") + 1] == "1"
    for flag in ("--locked", "--offline", "--timings", "--ignore-rust-version", "-v"):
        assert flag in call
    assert call[call.index("--color") + 1] == "never"
    assert call[-3:] == ["--", "-C", "target-cpu=native"]
    target_dir = Path(call[call.index("--target-dir") + 1])
    assert list((target_dir / "cargo-timings").glob("cargo-timing-*.html")), "no --timings report"
    (wheel,) = out.glob("*.whl")
    python = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").python
    pip_install(Path(python), str(wheel))
    run_check(Path(python), "pyo3-pure", tmp_path)


def test_target_of_the_host_builds_a_correct_wheel_in_its_own_target_dir(
    tmp_path: Path, cargo_log: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    out = tmp_path / "out"
    assert build(crate / "Cargo.toml", out, "--target", HOST) == 0
    calls = logged(cargo_log)
    (call,) = [c for c in calls if c[0] == "rustc"]
    assert call[call.index("--target") + 1] == HOST
    # a named target filters the metadata to it (maturin's --filter-platform)
    for meta in (c for c in calls if c[0] == "metadata"):
        assert meta[meta.index("--filter-platform") + 1] == HOST
    target_dir = Path(call[call.index("--target-dir") + 1])
    assert target_dir.name.endswith(f"-{HOST}")
    # cargo's layout with --target: <dir>/<triple>/<profile>
    assert (target_dir / HOST / "debug" / "libpyo3_pure.so").is_file()
    (wheel,) = out.glob("*.whl")
    assert wheel.name.startswith("pyo3_pure-2.1.2-cp312-cp312-manylinux_")
    assert wheel.name.endswith("_x86_64.whl")
    contents = read_wheel(wheel)
    assert any(n.endswith(".cpython-312-x86_64-linux-gnu.so") for n in contents.files)
    python = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").python
    pip_install(Path(python), str(wheel))
    run_check(Path(python), "pyo3-pure", tmp_path)


def test_a_target_whose_std_is_missing_fails_in_one_sentence_and_writes_nothing(
    tmp_path: Path, cargo_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from maturin_nox.platform_tags import rust_sysroot

    sysroot = rust_sysroot()
    if sysroot is None or (sysroot / "lib" / "rustlib" / "aarch64-unknown-linux-gnu").is_dir():
        pytest.skip("needs a toolchain without aarch64-unknown-linux-gnu")
    crate = copy_crate("pyo3-pure", tmp_path)
    out = tmp_path / "out"
    code = build(crate / "Cargo.toml", out, "--target", "aarch64-unknown-linux-gnu")
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    (line,) = [ln for ln in err.splitlines() if "failed" in ln]
    assert line.endswith("run `rustup target add aarch64-unknown-linux-gnu`.")
    assert not out.exists() or not list(out.iterdir())
    calls = logged(cargo_log)
    assert [c[0] for c in calls] == ["metadata"], "cargo must not build"
    assert calls[0][calls[0].index("--filter-platform") + 1] == "aarch64-unknown-linux-gnu"
    # $CARGO_BUILD_TARGET is --target's default, as cargo and maturin read it
    os.environ["CARGO_BUILD_TARGET"] = "aarch64-unknown-linux-gnu"
    try:
        assert build(crate / "Cargo.toml", out) == 1
    finally:
        del os.environ["CARGO_BUILD_TARGET"]
    assert "rustup target add aarch64-unknown-linux-gnu" in capsys.readouterr().err


def test_build_sdist_builds_the_wheels_from_the_unpacked_sdist(
    tmp_path: Path, cargo_log: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    out = tmp_path / "out"
    assert build(crate / "Cargo.toml", out, "--sdist") == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names[0] == "pyo3_pure-2.1.2-cp312-cp312-" + names[0].split("-cp312-cp312-")[1]
    assert names[1] == "pyo3_pure-2.1.2.tar.gz"
    manifests = [c[c.index("--manifest-path") + 1] for c in logged(cargo_log) if c[0] == "rustc"]
    assert len(manifests) == 1 and not manifests[0].startswith(str(crate)), "not from the sdist"
    assert manifests[0].endswith("pyo3_pure-2.1.2/Cargo.toml")
    python = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").python
    pip_install(Path(python), str(out / names[0]))
    run_check(Path(python), "pyo3-pure", tmp_path)

    # a file the sdist leaves out fails the build from it, not only a user's later
    (crate / "src" / "extra.txt").write_text("extra")
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text() + '\nconst _EXTRA: &str = include_str!("extra.txt");\n')
    manifest = crate / "Cargo.toml"
    excluded = manifest.read_text().replace(
        "publish = false", 'publish = false\nexclude = ["src/extra.txt"]'
    )
    manifest.write_text(excluded)
    assert build(manifest, tmp_path / "plain") == 0
    assert build(manifest, tmp_path / "from-sdist", "--sdist") == 1
    assert not list((tmp_path / "from-sdist").glob("*.whl"))


@pytest.mark.parametrize("method", ["stored", "deflated", "bzip2"])
def test_compression_methods_give_wheels_pip_installs(tmp_path: Path, method: str) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    out = tmp_path / "out"
    level = "0" if method == "stored" else "9"
    flags = ["--compression-method", method, "--compression-level", level]
    assert build(crate / "Cargo.toml", out, *flags) == 0
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert {i.compress_type for i in zf.infolist()} == {METHODS[method]}
    python = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").python
    pip_install(Path(python), str(wheel))
    run_check(Path(python), "pyo3-pure", tmp_path)


def test_a_dev_build_is_stored_and_the_stamp_knows_the_compression(tmp_path: Path) -> None:
    from maturin_nox import build as build_wheels

    crate = copy_crate("pyo3-pure", tmp_path)
    options = dict(manifest_path=crate / "Cargo.toml", interpreters=[PYTHON], target_dir=TARGET)
    dev = build_wheels(out_dir=tmp_path / "dev", **options)
    with zipfile.ZipFile(dev[0].path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    # the same build deflated is a new wheel, not the one the stamp kept
    again = build_wheels(out_dir=tmp_path / "dev", compression_method="deflated", **options)
    assert not again[0].reused
    with zipfile.ZipFile(again[0].path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}


def test_include_debuginfo_puts_the_dwp_beside_the_library_and_sbom_include_adds_files(
    tmp_path: Path, cargo_log: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    (crate / "vendor.cdx.json").write_text('{"bomFormat": "CycloneDX"}\n')
    out = tmp_path / "out"
    flags = ["--include-debuginfo", "--sbom-include", "vendor.cdx.json"]
    assert build(crate / "Cargo.toml", out, *flags) == 0
    (call,) = [c for c in logged(cargo_log) if c[0] == "rustc"]
    assert call[-3:] == ["--", "-C", "split-debuginfo=packed"]
    (wheel,) = out.glob("*.whl")
    names = read_wheel(wheel).files
    (library,) = [n for n in names if n.endswith(".so")]
    folder = library.rsplit("/", 1)[0]
    assert f"{folder}/libpyo3_pure.so.dwp" in names
    sboms = "pyo3_pure-2.1.2.dist-info/sboms"
    assert names[f"{sboms}/vendor.cdx.json"] == b'{"bomFormat": "CycloneDX"}\n'
    assert f"{sboms}/pyo3-pure.cyclonedx.json" in names
    assert build(crate / "Cargo.toml", out, "--sbom-include", "missing.json") == 1


def _local_wheel(folder: Path, name: str) -> None:
    writer = WheelWriter(folder, name, "1.0", ["py3-none-any"])
    writer.add_bytes(f"{name.replace('-', '_')}.py", "VALUE = 1\n")
    writer.add_dist_info("METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    writer.finish()


def test_develop_installs_dependency_groups_with_the_pip_given(tmp_path: Path) -> None:
    crate = copy_crate("pyo3-mixed", tmp_path)
    pyproject = crate / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[dependency-groups]\ntest = ["groupdep-a", {include-group = "More"}]\n'
        + 'more = ["groupdep-b>=1"]\ndev = ["groupdep-c"]\n'
    )
    wheels = tmp_path / "wheels"
    for name in ("groupdep-a", "groupdep-b", "groupdep-c"):
        _local_wheel(wheels, name)
    env = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv")
    pip_log = tmp_path / "pip.log"
    pip = tmp_path / "my-pip"
    pip.write_text(f'#!/bin/sh\necho "$@" >> {pip_log}\nexec {env.python} -m pip "$@"\n')
    pip.chmod(0o755)
    base = ["develop", "-m", str(crate / "Cargo.toml"), "--target-dir", str(TARGET)]
    base += ["--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}"]
    os.environ["VIRTUAL_ENV"] = str(env.path)
    try:
        assert main(*base, "-G", "test", "--pip-path", str(pip)) == 0
        site = next((env.path / "lib").glob("python*/site-packages"))
        assert (site / "groupdep_a.py").is_file() and (site / "groupdep_b.py").is_file()
        assert not (site / "groupdep_c.py").exists()
        assert "groupdep-a groupdep-b>=1" in pip_log.read_text()
        assert main(*base) == 0  # no -G: maturin's default, the dev group
        assert (site / "groupdep_c.py").is_file()
        assert main(*base, "-G", "lint") == 1
    finally:
        del os.environ["VIRTUAL_ENV"]


def test_pgo_fails_before_cargo_without_a_matching_llvm_profdata(
    tmp_path: Path,
    cargo_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The machine's real llvm-profdata 14 against rustc's LLVM: one sentence, no build."""
    from maturin_nox import pgo
    from maturin_nox.platform_tags import rust_sysroot

    llvm14 = Path("/usr/lib/llvm-14/bin/llvm-profdata")
    major = pgo.rustc_llvm_major()
    if not llvm14.exists() or major == 14:
        pytest.skip("needs Debian's llvm-profdata 14 and a rustc on another LLVM")
    # only the LLVM 14 tool in sight: rustup's llvm-tools hidden behind an empty sysroot
    real = shutil.which("rustc")
    empty = tmp_path / "sysroot"
    empty.mkdir()
    rustc = tmp_path / "rustc"
    rustc.write_text(
        f'#!/bin/sh\n[ "$1" = --print ] && [ "$2" = sysroot ] && echo {empty} && exit 0\n'
        f'exec {real} "$@"\n'
    )
    rustc.chmod(0o755)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "llvm-profdata").symlink_to(llvm14)
    monkeypatch.setenv("RUSTC", str(rustc))
    monkeypatch.setenv("PATH", str(bindir))
    rust_sysroot.cache_clear()
    crate = copy_crate("pyo3-pure", tmp_path)
    manifest, out = crate / "Cargo.toml", tmp_path / "out"
    python = str(pyenv_python(PYTHON))
    base = ["build", "-m", str(manifest), "-i", python, "--target-dir", str(TARGET), "-o", str(out)]
    try:
        assert main(*base, "--pgo") == 1
        assert "tool.maturin.pgo-command" in capsys.readouterr().err
        pyproject = crate / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + 'pgo-command = "python -c 1"\n')
        monkeypatch.setenv("MATURIN_PGO", "1")
        assert main(*base) == 1
    finally:
        rust_sysroot.cache_clear()
    err = capsys.readouterr().err
    assert f"is LLVM 14, but rustc uses LLVM {major}" in err and "Traceback" not in err
    assert "run `rustup component add llvm-tools`" in err
    # cargo metadata ran (the second time its cache may answer), cargo never built
    calls = [c[0] for c in logged(cargo_log)]
    assert calls and set(calls) == {"metadata"}, "cargo must not build"
    assert not out.exists() or not list(out.glob("*.whl"))


def test_pgo_instrumented_phase_writes_profiles_when_trained(tmp_path: Path) -> None:
    """Phases 1 and 2 for real: -Cprofile-generate reaches every crate through cargo's config."""
    from maturin_nox import pgo
    from maturin_nox.builder import compile_target, open_project
    from maturin_nox.compression import FAST
    from maturin_nox.options import BuildOptions
    from maturin_nox.payload import dist_info_files, wheel_payload
    from maturin_nox.plan import resolve_plan
    from maturin_nox.wheel import write_payload

    crate = copy_crate("pyo3-pure", tmp_path)
    manifest = crate / "Cargo.toml"
    options = BuildOptions(manifest_path=manifest, interpreters=(PYTHON,), target_dir=TARGET)
    plan = resolve_plan(open_project(options), options)
    (target,) = plan.targets
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    flags = (f"-Cprofile-generate={profiles}",)
    instrumented = dataclasses.replace(plan, pgo_phase="generate", rustflags=flags)
    output = compile_target(instrumented, target)
    dist_info = dist_info_files(plan.project)
    payload = wheel_payload(instrumented, target, output, dist_info=dist_info, audit=False)
    wheel = write_payload(payload, tmp_path, compression=FAST)
    pgo.run_training(
        "python -c 'import pyo3_pure; assert pyo3_pure.add(1, 2) == 3'",
        python=str(target.interpreter.executable),  # type: ignore[union-attr]
        wheel=wheel,
        requirements=[],
        cwd=crate,
        profile_dir=profiles,
    )
    assert list(profiles.glob("*.profraw")), "the instrumented library wrote no profile"


def test_the_command_line_aliases_build(tmp_path: Path) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k != "CARGO"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    cmd = [sys.executable, "-m", "maturin_nox", "-v", "b", "-i", PYTHON]
    cmd += ["--target-dir", str(TARGET), "-o", "out"]
    proc = subprocess.run(cmd, cwd=crate, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list((crate / "out").glob("*.whl"))
    assert "Running " in proc.stderr  # -v before the command: debug logging


def test_pgo_builds_an_optimized_wheel_in_three_phases(tmp_path: Path, cargo_log: Path) -> None:
    """The whole cycle; needs an llvm-profdata of rustc's LLVM (`rustup component add llvm-tools`)."""
    from maturin_nox import pgo
    from maturin_nox.errors import BuildError

    try:
        pgo.find_llvm_profdata()
    except BuildError as exc:
        pytest.skip(str(exc))
    crate = copy_crate("pyo3-pure", tmp_path)
    pyproject = crate / "pyproject.toml"
    training = "python -c 'import pyo3_pure; [pyo3_pure.add(i, i) for i in range(10000)]'"
    pyproject.write_text(pyproject.read_text() + f'pgo-command = "{training}"\n')
    out = tmp_path / "out"
    assert build(crate / "Cargo.toml", out, "--pgo") == 0
    builds = [c for c in logged(cargo_log) if c[0] == "rustc"]
    assert len(builds) == 2
    flags = [c[c.index("--config") + 1] for c in builds]
    assert flags[0].startswith('build.rustflags=["-Cprofile-generate=')
    assert flags[1].startswith('build.rustflags=["-Cprofile-use=') and "merged.profdata" in flags[1]
    assert all("--release" in c for c in builds), "--pgo builds release"
    assert Path(builds[0][builds[0].index("--target-dir") + 1]).name.endswith("-pgo-generate")
    (wheel,) = out.glob("*.whl")
    python = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").python
    pip_install(Path(python), str(wheel))
    run_check(Path(python), "pyo3-pure", tmp_path)
