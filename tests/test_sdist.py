"""Source distributions: file lists and contents against maturin 1.16, round trips to wheels,
PEP 625 names, reproducibility and bad input."""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Callable, Dict, Tuple

import pytest

# the engine's build function (maturin_nox.build is the same function)
from maturin_nox.builder import build
from maturin_nox.cli import main as cli_main
from maturin_nox.errors import ConfigError, ProjectError
from maturin_nox.project import load_project
from maturin_nox.sdist import build_sdist, sdist_file_list
from maturin_nox.toml import loads_toml

CRATES = Path(__file__).resolve().parent.parent / "test-crates"
TARGET = Path(
    os.environ.get("MATURIN_NOX_TEST_TARGET", Path.home() / ".cache/maturin-nox-tests/target")
)
PYTHON = "3.12"
MATURIN_MTIME = 1153704088

# Differences from `maturin sdist` we accept, by crate: archive paths only one side has.
# (None today: the archives hold the same files, byte for byte, in the same order and modes.)
DOCUMENTED_DIFFERENCES: Dict[str, Tuple[set, set]] = {}


def _tar_files(path: Path) -> Dict[str, bytes]:
    """The archive's files by path under its top folder."""
    with tarfile.open(path) as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _tar_members(path: Path) -> list:
    """(path, mode) of every member, in archive order."""
    with tarfile.open(path) as tar:
        return [(m.name, m.mode) for m in tar.getmembers()]


@pytest.fixture(scope="session")
def maturin_sdists(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`maturin sdist` of a crate (reference tool, tests only), built once per session."""
    out: Dict[str, Path] = {}

    def get(crate: str) -> Path:
        if crate not in out:
            dest = tmp_path_factory.mktemp(f"maturin-{crate}")
            subprocess.run(
                [sys.executable, "-m", "maturin", "sdist", "-o", str(dest)],
                cwd=CRATES / crate,
                check=True,
                capture_output=True,
            )
            out[crate] = next(dest.glob("*.tar.gz"))
        return out[crate]

    return get


def _toml(data: bytes) -> dict:
    return loads_toml(data.decode("utf-8"), Path("<sdist>"))


def _assert_same_contents(ours: Dict[str, bytes], theirs: Dict[str, bytes]) -> None:
    """Every file both archives hold is byte for byte maturin's (manifests included: they are
    edited in place, comments and layout kept where maturin keeps them)."""
    for name in sorted(set(ours) & set(theirs)):
        assert ours[name] == theirs[name], f"{name} differs from maturin's"


@pytest.mark.slow
@pytest.mark.parametrize(
    "crate",
    ["pyo3-pure", "pyo3-mixed", "pyo3-workspace", "sdist-path-dep", "sdist-targets", "with-data"],
)
def test_file_list_and_contents_match_maturin(crate: str, maturin_sdists, tmp_path: Path) -> None:
    ours_path = build_sdist(cwd=CRATES / crate, out_dir=tmp_path)
    theirs_path = maturin_sdists(crate)
    assert ours_path.name == theirs_path.name
    ours, theirs = _tar_files(ours_path), _tar_files(theirs_path)
    only_ours, only_theirs = DOCUMENTED_DIFFERENCES.get(crate, (set(), set()))
    assert set(ours) - set(theirs) == only_ours
    assert set(theirs) - set(ours) == only_theirs
    _assert_same_contents(ours, theirs)
    if not only_ours and not only_theirs:
        # the same order (PKG-INFO first, then by path component) and modes (0644, always)
        assert _tar_members(ours_path) == _tar_members(theirs_path)
    project = load_project(cwd=CRATES / crate)
    assert set(sdist_file_list(project)) == set(ours)


@pytest.mark.slow
def test_path_dependency_outside_the_project_is_placed_so_relative_paths_work(
    tmp_path: Path,
) -> None:
    files = _tar_files(build_sdist(cwd=CRATES / "sdist-path-dep", out_dir=tmp_path))
    pyproject = _toml(files["pyproject.toml"])
    assert pyproject["tool"]["maturin"]["manifest-path"] == "sdist-path-dep/Cargo.toml"
    main = _toml(files["sdist-path-dep/Cargo.toml"])
    assert main["dependencies"]["sdist-shared"] == {"path": "../sdist-shared"}
    shared = _toml(files["sdist-shared/Cargo.toml"])
    assert shared["package"]["readme"] == "README.md"  # copied beside the manifest
    assert "sdist-shared/README.md" in files and "sdist-shared/inner/src/lib.rs" in files
    assert "notes/design.txt" in files  # tool.maturin.include, format sdist
    assert "notes/ignored.md" not in files
    assert not any(name.endswith("scratch.txt") for name in files)  # tool.maturin.exclude
    assert (
        files["PKG-INFO"].decode()
        == load_project(cwd=CRATES / "sdist-path-dep").metadata.metadata_text
    )


def _install_and_check(wheel: Path, check_script: Path, tmp_path: Path) -> None:
    """Install the wheel into a fresh venv and run the crate's check script from a temp dir."""
    from maturin_nox.interpreters import resolve

    python = resolve(PYTHON).executable
    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    vpython = venv / "bin" / "python"
    subprocess.run(
        [str(vpython), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(check_script, run_dir / "check_installed.py")
    proc = subprocess.run(
        [str(vpython), "check_installed.py"], cwd=run_dir, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("crate", ["sdist-path-dep", "pyo3-workspace", "sdist-targets"])
def test_wheel_builds_from_the_unpacked_sdist_alone(crate: str, tmp_path: Path) -> None:
    sdist = build_sdist(cwd=CRATES / crate, out_dir=tmp_path / "dist")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked)
    (top,) = list(unpacked.iterdir())
    wheels = build(
        cwd=top,
        interpreters=[PYTHON],
        out_dir=tmp_path / "wheels",
        target_dir=TARGET,
        compatibility="linux",
        quiet=True,
    )
    assert len(wheels) == 1
    _install_and_check(wheels[0].path, CRATES / crate / "check_installed.py", tmp_path)


def _copy_crate(src: str, dest: Path) -> Path:
    shutil.copytree(
        CRATES / src, dest, ignore=shutil.ignore_patterns("target", "__pycache__", "*.so")
    )
    return dest


@pytest.mark.slow
def test_archive_is_named_and_rooted_per_pep_625_and_reproducible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = _copy_crate("pyo3-pure", tmp_path / "crate")
    pyproject = crate / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pyo3-pure"', '"Pyo3.Pure--Renamed"'))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = build_sdist(cwd=crate, out_dir=tmp_path / "a")
    second = build_sdist(cwd=crate, out_dir=tmp_path / "b")
    assert first.name == "pyo3_pure_renamed-2.1.2.tar.gz"
    assert first.read_bytes() == second.read_bytes()
    assert not [p for p in (tmp_path / "a").iterdir() if p != first]  # no temp file left
    raw = first.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header carries no timestamp
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    assert members[0].name == "pyo3_pure_renamed-2.1.2/PKG-INFO"
    names = [m.name for m in members[1:]]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert all(m.name.startswith("pyo3_pure_renamed-2.1.2/") for m in members)
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "", "", MATURIN_MTIME)
    }
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    third = build_sdist(cwd=crate, out_dir=tmp_path / "c")
    with tarfile.open(third) as tar:
        assert {m.mtime for m in tar.getmembers()} == {1700000000}
    assert gzip.decompress(third.read_bytes()) != gzip.decompress(raw)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


_PYPROJECT = """\
[build-system]
requires = ["maturin-nox-core"]
build-backend = "maturin_nox.backend"

[project]
name = "{name}"
requires-python = ">=3.8"
dynamic = ["version"]

[tool.maturin]
bindings = "cffi"
"""


def _cargo_metadata(manifest: Path) -> dict:
    import json

    out = subprocess.run(
        [
            "cargo",
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
            str(manifest),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def _maturin_sdist(project_dir: Path, dest: Path) -> Dict[str, bytes]:
    """The files of `maturin sdist` (reference tool, tests only) for a project folder."""
    subprocess.run(
        [sys.executable, "-m", "maturin", "sdist", "-o", str(dest)],
        cwd=project_dir,
        check=True,
        capture_output=True,
    )
    return _tar_files(next(dest.glob("*.tar.gz")))


def _unpack(sdist: Path, dest: Path) -> Path:
    with tarfile.open(sdist) as tar:
        tar.extractall(dest)
    (top,) = list(dest.iterdir())
    return top


@pytest.mark.slow
def test_workspace_is_pruned_to_the_needed_members(tmp_path: Path, maturin_sdists) -> None:
    root = tmp_path / "ws"
    _write(
        root / "Cargo.toml",
        '[workspace]\nmembers = ["py", "dep", "unused"]\ndefault-members = ["unused"]\n'
        'resolver = "2"\n\n[workspace.package]\nversion = "1.2.3"\nedition = "2021"\n',
    )
    _write(
        root / "pyproject.toml",
        _PYPROJECT.format(name="ws-py") + 'manifest-path = "py/Cargo.toml"\n',
    )
    _write(
        root / "py/Cargo.toml",
        '[package]\nname = "ws-py"\nversion.workspace = true\nedition.workspace = true\n\n'
        '[lib]\nname = "ws_py"\ncrate-type = ["cdylib"]\n\n[dependencies]\ndep = { path = "../dep" }\n',
    )
    _write(root / "py/src/lib.rs", "pub fn f() -> u32 { dep::g() }\n")
    for name in ("dep", "unused"):
        _write(
            root / f"{name}/Cargo.toml",
            f'[package]\nname = "{name}"\nversion.workspace = true\nedition.workspace = true\n',
        )
        _write(root / f"{name}/src/lib.rs", "pub fn g() -> u32 { 1 }\n")
    subprocess.run(
        ["cargo", "generate-lockfile", "--offline"], cwd=root, check=True, capture_output=True
    )
    sdist = build_sdist(cwd=root, out_dir=tmp_path / "dist")
    files = _tar_files(sdist)
    workspace = _toml(files["Cargo.toml"])["workspace"]
    assert workspace["members"] == ["py", "dep"]
    assert "default-members" not in workspace
    assert not any(n.startswith("unused/") for n in files)
    top = _unpack(sdist, tmp_path / "unpacked")
    meta = _cargo_metadata(top / "py/Cargo.toml")
    assert {p["name"]: p["version"] for p in meta["packages"]} == {"ws-py": "1.2.3", "dep": "1.2.3"}
    theirs = _maturin_sdist(root, tmp_path / "maturin")
    assert set(files) == set(theirs)
    _assert_same_contents(files, theirs)


@pytest.mark.slow
def test_inherited_fields_are_inlined_when_the_workspace_root_stays_outside(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "outer"
    _write(
        outer / "Cargo.toml",
        '[workspace]\nmembers = ["group/lib", "group/util"]\nexclude = ["group/proj"]\n'
        'resolver = "2"\n\n[workspace.package]\nversion = "0.7.0"\nedition = "2021"\n'
        'license = "MIT"\nauthors = ["Ferris"]\npublish = false\nreadme = "README.md"\n'
        'include = [\n    "src/**",  # the sources\n    "Cargo.toml",\n    "README.md",\n]\n\n'
        '[workspace.dependencies]\nutil = { path = "group/util" }\n\n'
        '[workspace.lints.rust]\nunsafe_code = "forbid"\n',
    )
    _write(outer / "README.md", "# the workspace\n")
    _write(
        outer / "group/lib/Cargo.toml",
        "# a member of the outer workspace\n"
        '[package]\nname = "lib"\nversion.workspace = true\nedition.workspace = true\n'
        "# inherited fields are written anew, without the comments around them\n"
        "license.workspace = true  # MIT\nauthors.workspace = true\n"
        "publish.workspace = true\nreadme.workspace = true\ninclude.workspace = true\n\n"
        "[dependencies]\n# inherited from [workspace.dependencies]\n"
        "util = { workspace = true }\n\n[lints]\nworkspace = true\n",
    )
    _write(outer / "group/lib/src/lib.rs", "pub fn g() -> u32 { util::h() }\n")
    _write(
        outer / "group/util/Cargo.toml",
        '[package]\nname = "util"\nversion.workspace = true\nedition.workspace = true\n',
    )
    _write(outer / "group/util/src/lib.rs", "pub fn h() -> u32 { 7 }\n")
    proj = outer / "group/proj"
    _write(proj / "pyproject.toml", _PYPROJECT.format(name="proj"))
    _write(
        proj / "Cargo.toml",
        '[package]\nname = "proj"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n\n'
        '[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\nlib = { path = "../lib" }\n',
    )
    _write(proj / "src/lib.rs", "pub fn f() -> u32 { lib::g() }\n")
    subprocess.run(
        ["cargo", "generate-lockfile", "--offline"], cwd=proj, check=True, capture_output=True
    )
    sdist = build_sdist(cwd=proj, out_dir=tmp_path / "dist")
    files = _tar_files(sdist)
    assert "Cargo.toml" not in files  # the outer workspace root is not in the sdist
    lib = _toml(files["lib/Cargo.toml"])
    package = lib["package"]
    assert (package["version"], package["edition"], package["license"], package["authors"]) == (
        "0.7.0",
        "2021",
        "MIT",
        ["Ferris"],
    )
    assert package["publish"] is False  # cargo's `publish: []` means "nowhere"
    assert package["include"] == ["src/**", "Cargo.toml", "README.md"]
    assert package["readme"] == "README.md" and files["lib/README.md"] == b"# the workspace\n"
    assert lib["dependencies"]["util"] == {"path": "../util"}
    assert lib["lints"] == {"rust": {"unsafe_code": "forbid"}}
    text = files["lib/Cargo.toml"].decode()
    assert text.startswith("# a member of the outer workspace\n")
    assert '    "src/**",  # the sources\n' in text  # copied from the workspace as written
    assert _toml(files["pyproject.toml"])["tool"]["maturin"]["manifest-path"] == "proj/Cargo.toml"
    theirs = _maturin_sdist(proj, tmp_path / "maturin")
    assert set(files) == set(theirs)
    _assert_same_contents(files, theirs)
    top = _unpack(sdist, tmp_path / "unpacked")
    meta = _cargo_metadata(top / "proj/Cargo.toml")
    assert {p["name"]: p["version"] for p in meta["packages"]} == {
        "proj": "0.1.0",
        "lib": "0.7.0",
        "util": "0.7.0",
    }


@pytest.mark.slow
def test_python_source_outside_the_pyproject_folder_is_packed_and_rewritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "project"
    crate = root / "crate"
    _write(
        crate / "Cargo.toml",
        '[package]\nname = "outside"\nversion = "0.2.0"\nedition = "2021"\n\n[dependencies]\n',
    )
    _write(crate / "src/main.rs", 'fn main() {\n    println!("outside");\n}\n')
    _write(
        crate / "pyproject.toml",
        _PYPROJECT.format(name="outside").replace('"cffi"', '"bin"')
        + 'python-source = "../python"\nmodule-name = "outside_pkg"\n',
    )
    _write(root / "python/outside_pkg/__init__.py", "ANSWER = 42\n")
    _write(root / "python/outside_pkg/sub/data.txt", "data\n")
    subprocess.run(
        ["cargo", "generate-lockfile", "--offline"], cwd=crate, check=True, capture_output=True
    )
    sdist = build_sdist(cwd=crate, out_dir=tmp_path / "dist")
    files = _tar_files(sdist)
    assert {"crate/Cargo.toml", "crate/src/main.rs", "python/outside_pkg/__init__.py"} <= set(files)
    assert "python/outside_pkg/sub/data.txt" in files
    maturin_cfg = _toml(files["pyproject.toml"])["tool"]["maturin"]
    assert (maturin_cfg["manifest-path"], maturin_cfg["python-source"]) == (
        "crate/Cargo.toml",
        "python",
    )
    theirs_dir = tmp_path / "maturin"
    theirs = _maturin_sdist(crate, theirs_dir)
    assert set(files) == set(theirs)
    _assert_same_contents(files, theirs)
    assert _tar_members(sdist) == _tar_members(next(theirs_dir.glob("*.tar.gz")))
    # as maturin: the wheel built from the unpacked sdist carries the package, the one
    # built from the tree does not (maturin's walk starts at the pyproject folder), and
    # we say so
    top = _unpack(sdist, tmp_path / "unpacked")
    packed = {}
    for where in (top, crate):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="maturin_nox"):
            (wheel,) = build(
                cwd=where,
                out_dir=tmp_path / "wheels" / where.name,
                target_dir=TARGET,
                compatibility="linux",
                quiet=True,
            )
        warned = any("outside_pkg is left out" in r.getMessage() for r in caplog.records)
        with zipfile.ZipFile(wheel.path) as zf:
            packed[where] = ("outside_pkg/__init__.py" in zf.namelist(), warned)
    assert packed == {top: (True, False), crate: (False, True)}
    # develop and editable installs serve it through their .pth file, wherever it is
    from maturin_nox.layout import python_files

    editable = python_files(load_project(crate), editable=True)
    assert editable["outside_pkg/__init__.py"] == root / "python/outside_pkg/__init__.py"


# --- bad input: one clear sentence, non-zero exit, nothing written --------------------------


def _cli_fails(args: list, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = cli_main(["sdist", *args, "-o", str(out)])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())
    return err


@pytest.mark.slow
def test_project_without_build_system_is_refused(tmp_path: Path, capsys) -> None:
    crate = _copy_crate("pyo3-pure", tmp_path / "crate")
    pyproject = crate / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[text.index("[project]") :])
    with pytest.raises(ConfigError, match=r"has no \[build-system\] table") as info:
        build_sdist(cwd=crate, out_dir=tmp_path / "out")
    assert info.value.key == "build-system"
    err = _cli_fails(["-m", str(crate / "Cargo.toml")], tmp_path / "out", capsys)
    assert "[build-system]" in err


@pytest.mark.slow
def test_project_without_pyproject_is_refused(tmp_path: Path, capsys) -> None:
    crate = _copy_crate("pyo3-pure", tmp_path / "crate")
    (crate / "pyproject.toml").unlink()
    err = _cli_fails(["-m", str(crate / "Cargo.toml")], tmp_path / "out", capsys)
    assert "has no pyproject.toml" in err


@pytest.mark.slow
def test_missing_path_dependency_is_named(tmp_path: Path, capsys) -> None:
    crate = _copy_crate("sdist-path-dep", tmp_path / "crate")
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace("../sdist-shared", "../gone"))
    with pytest.raises(ProjectError) as info:
        build_sdist(cwd=crate, out_dir=tmp_path / "out")
    assert "'sdist-shared'" in str(info.value) and str(tmp_path / "gone") in str(info.value)
    err = _cli_fails(["-m", str(manifest)], tmp_path / "out", capsys)
    assert "sdist-shared" in err


@pytest.mark.slow
def test_symlinks_pointing_outside_are_not_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not ship")
    crate = _copy_crate("pyo3-mixed", tmp_path / "crate")
    (crate / "leak.txt").symlink_to(secret)
    (crate / "python/pyo3_mixed/leak.py").symlink_to(secret)
    (crate / "inside.txt").symlink_to(crate / "README.md")
    with caplog.at_level(logging.WARNING, logger="maturin_nox"):
        files = sdist_file_list(load_project(cwd=crate))
    assert "leak.txt" not in files and "python/pyo3_mixed/leak.py" not in files
    assert "inside.txt" in files  # a link inside the project is fine
    assert "Not following" in caplog.text
    with tarfile.open(build_sdist(cwd=crate, out_dir=tmp_path / "out")) as tar:
        for member in tar.getmembers():
            assert b"do not ship" not in tar.extractfile(member).read()  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["../secret.txt", "/etc/hostname", "sub/../../secret.txt"])
def test_include_globs_cannot_reach_outside(
    pattern: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secret.txt").write_text("do not ship")
    crate = _copy_crate("pyo3-pure", tmp_path / "crate")
    with (crate / "pyproject.toml").open("a") as fh:
        fh.write(f'include = [{{ path = "{pattern}", format = "sdist" }}]\n')
    with pytest.raises(ConfigError) as info:
        build_sdist(cwd=crate, out_dir=tmp_path / "out")
    assert info.value.key == "tool.maturin.include"
    err = _cli_fails(["-m", str(crate / "Cargo.toml")], tmp_path / "out", capsys)
    assert "tool.maturin.include" in err
