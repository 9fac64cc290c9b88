"""maturin-nox new / init: the generated projects build and pass their tests with nox at once.

Each layout is generated with the real command, then ``nox -s build test`` runs
in it (the real sessions, real cargo, a fresh env per test run) with the suite's
shared cargo target dir. ``-P`` picks one interpreter to keep the runtime down;
the noxfile itself lists every Python that requires-python allows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import TARGET, cli

from maturin_nox.scaffold import ProjectSpec, project_files

# The running interpreter has cffi (maturin-nox depends on it), which cffi builds need
# to generate ffi.py; a bare pyenv Python may not.
THIS_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"

LAYOUTS = {
    "pyo3": ([], "3.12"),
    "pyo3-mixed": (["--mixed"], "3.12"),
    "pyo3-src": (["--src"], "3.12"),
    "cffi": (["-b", "cffi"], THIS_PYTHON),
    "cffi-mixed": (["-b", "cffi", "--mixed"], THIS_PYTHON),
    "bin": (["-b", "bin"], "3.12"),
    "bin-mixed": (["-b", "bin", "--mixed"], "3.12"),
}


def _files(root: Path) -> List[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _nox(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MATURIN_NOX_TARGET_DIR": str(TARGET)}
    env.pop("CI", None)  # nox on CI errors on interpreters it cannot find
    return subprocess.run(
        [sys.executable, "-m", "nox", *args], cwd=project, capture_output=True, text=True, env=env
    )


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_new_project_passes_nox_build_and_test_right_away(tmp_path: Path, layout: str) -> None:
    flags, python = LAYOUTS[layout]
    name = f"demo-{layout}"
    module = name.replace("-", "_")
    project = tmp_path / name

    created = cli("new", *flags, str(project))
    assert created.returncode == 0, created.stderr

    files = _files(project)
    for expected in [
        ".gitignore",
        "pyproject.toml",
        "noxfile.py",
        f"tests/test_{module}.py",
        ".github/workflows/CI.yml",
    ]:
        assert expected in files
    assert "Next: cd" in created.stdout

    run = _nox(project, "-P", python, "-s", "build", "test")

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    wheels = sorted((project / "target" / "wheels").glob("*.whl"))
    assert len(wheels) == 1 and wheels[0].name.startswith(f"{module}-0.1.0-")
    assert "1 passed" in run.stdout + run.stderr


def test_the_noxfile_lists_every_python_requires_python_allows(tmp_path: Path) -> None:
    project = tmp_path / "listing"
    assert cli("new", str(project)).returncode == 0
    noxfile = (project / "noxfile.py").read_text(encoding="utf-8")
    assert 'sessions.register(python=["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])' in noxfile

    listed = _nox(project, "-l")

    assert listed.returncode == 0, listed.stderr
    for session in ("build", "test", "audit", "sdist", "develop"):
        assert f"* {session} ->" in listed.stdout
    assert "- publish ->" in listed.stdout  # never runs unless asked for


@pytest.mark.parametrize(
    ("flags", "cargo", "rust_source", "package"),
    [
        ([], "Cargo.toml", "src/lib.rs", None),
        (["--mixed"], "Cargo.toml", "src/lib.rs", "python/{m}/__init__.py"),
        (["--mixed", "--src"], "rust/Cargo.toml", "rust/src/lib.rs", "src/{m}/__init__.py"),
        (["-b", "bin"], "Cargo.toml", "src/main.rs", None),
        (["-b", "cffi", "--mixed"], "Cargo.toml", "src/lib.rs", "python/{m}/__init__.py"),
    ],
)
def test_layouts_put_rust_and_python_where_maturin_new_does(
    tmp_path: Path, flags: List[str], cargo: str, rust_source: str, package: str
) -> None:
    ours, theirs = tmp_path / "ours" / "lay_out", tmp_path / "theirs" / "lay_out"
    assert cli("new", *flags, str(ours)).returncode == 0
    bindings = [] if "-b" in flags else ["-b", "pyo3"]  # else maturin asks on the terminal
    subprocess.run(
        ["maturin", "new", *bindings, *flags, str(theirs)], check=True, capture_output=True
    )

    for root in (ours, theirs):
        files = _files(root)
        assert cargo in files and rust_source in files, (root, files)
        if package:
            assert package.format(m="lay_out") in files, (root, files)


def test_spec_names_and_files() -> None:
    spec = ProjectSpec("my-lib", bindings="pyo3", mixed=True)
    files: Dict[str, str] = project_files(spec)

    assert spec.module == "my_lib"
    assert 'module-name = "my_lib._core"' in files["pyproject.toml"]
    assert 'python-source = "python"' in files["pyproject.toml"]
    assert 'requires = ["maturin-nox-core"]' in files["pyproject.toml"]
    assert 'build-backend = "maturin_nox.backend"' in files["pyproject.toml"]
    assert 'test = ["pytest"]' in files["pyproject.toml"]
    assert 'pyo3 = { version = "0.23.5"' in files["Cargo.toml"]
    assert "fn _core(" in files["src/lib.rs"]
    assert "from ._core import sum_as_string" in files["python/my_lib/__init__.py"]


# ---------------------------------------------------------------------------- init


def test_init_adds_a_project_to_an_existing_folder_and_keeps_its_gitignore(tmp_path: Path) -> None:
    project = tmp_path / "existing"
    project.mkdir()
    (project / ".gitignore").write_text("mine\n", encoding="utf-8")
    (project / "notes.txt").write_text("keep me\n", encoding="utf-8")

    proc = cli("init", "-b", "bin", cwd=project)

    assert proc.returncode == 0, proc.stderr
    assert (project / ".gitignore").read_text(encoding="utf-8") == "mine\n"
    assert (project / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
    assert {"Cargo.toml", "pyproject.toml", "src/main.rs", "tests/test_existing.py"} <= set(
        _files(project)
    )
    assert 'name = "existing"' in (project / "pyproject.toml").read_text(encoding="utf-8")


def test_init_refuses_to_overwrite_a_file_and_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "taken"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")

    proc = cli("init", str(project))

    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"💥 maturin-nox failed: {project / 'pyproject.toml'} already exists; "
        "`init` does not overwrite files."
    )
    assert _files(project) == ["pyproject.toml"]


# ------------------------------------------------------------------------- bad input


def test_new_into_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "full"
    project.mkdir()
    (project / "README.md").write_text("hi\n", encoding="utf-8")

    proc = cli("new", str(project))

    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"💥 maturin-nox failed: {project} already exists and is not empty; "
        "use `maturin-nox init` to add a project to an existing folder."
    )
    assert _files(project) == ["README.md"]


@pytest.mark.parametrize(
    ("args", "folder", "says"),
    [
        (["--name", "1abc"], "fine", "The name '1abc' is not a valid Python package name"),
        (["--name", "a.b"], "fine", "The name 'a.b' is not a valid Python package name"),
        ([], "my project", "The folder name 'my project'"),
        (["--name", "class"], "fine", "The name 'class' is a reserved word in Python or Rust"),
        (["--name", "fn"], "fine", "The name 'fn' is a reserved word in Python or Rust"),
    ],
)
def test_a_name_that_cannot_be_a_python_package_writes_nothing(
    tmp_path: Path, args: List[str], folder: str, says: str
) -> None:
    proc = cli("new", *args, str(tmp_path / folder))

    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_bindings_are_refused_by_the_parser(tmp_path: Path) -> None:
    proc = cli("new", "-b", "pyo3-ffi", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert "invalid choice: 'pyo3-ffi'" in proc.stderr
    assert not (tmp_path / "x").exists()
