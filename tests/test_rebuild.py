"""Editable installs that rebuild on import, with real crates, interpreters and processes.

Each test develops a private copy of a test crate into a fresh virtualenv,
edits it, and runs a new ``python -c "import ..."`` from a temporary folder.
Whether a build ran is read from what the finder and cargo print
(``MATURIN_NOX_REBUILD=verbose`` shows cargo's output), never from timing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest
from conftest import CRATES, TARGET, pyenv_python

from maturin_nox.venv import VirtualEnv, create

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PYTHON = "3.12"
REBUILT = "maturin-nox: rebuilt "


def crate_copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(CRATES / name, dest, ignore=shutil.ignore_patterns("target", "*.so"))
    return dest


def develop(crate: Path, venv: VirtualEnv) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(VIRTUAL_ENV=str(venv.path), PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "maturin_nox", "develop", "--target-dir", str(TARGET)]
    proc = subprocess.run(cmd, cwd=crate, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def python(venv: VirtualEnv, code: str, cwd: Path, **env: str) -> Tuple[int, str, str]:
    """Run code in the venv from a neutral folder, as a user would (no PYTHONPATH)."""
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MATURIN_NOX_REBUILD")
    }
    full.update(env)
    proc = subprocess.run(
        [str(venv.python), "-c", code],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc.returncode, proc.stdout.strip(), proc.stderr


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


@pytest.fixture()
def venv(tmp_path: Path) -> VirtualEnv:
    return create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv")


MIXED = "import pyo3_mixed; print(pyo3_mixed.get_21())"


def test_a_rust_edit_is_seen_by_the_next_import_and_other_edits_build_nothing(
    tmp_path: Path, venv: VirtualEnv
) -> None:
    crate = crate_copy(tmp_path, "pyo3-mixed")
    develop(crate, venv)
    assert python(venv, MIXED, tmp_path)[:2] == (0, "21")
    edit(crate / "src" / "lib.rs", "    21\n", "    22\n")
    code, out, err = python(venv, MIXED, tmp_path)
    assert (code, out) == (0, "22"), err
    assert err.count(REBUILT) == 1 and "src/lib.rs changed" in err, err
    # fresh now: no build, nothing printed
    assert python(venv, MIXED, tmp_path, MATURIN_NOX_REBUILD="verbose") == (0, "22", "")
    # files that do not reach the library never trigger a build
    (crate / "python" / "pyo3_mixed" / "_native.pyi").write_text("def get_21() -> int: ...\n")
    (crate / ".coverage").write_text("coverage data\n")
    edit(
        crate / "pyproject.toml",
        "Mixed Rust/Python layout",
        "An edited description of a mixed layout",
    )
    edit(crate / "README.md", "", "Edited. ")
    assert python(venv, MIXED, tmp_path, MATURIN_NOX_REBUILD="verbose") == (0, "22", "")


def test_a_pure_rust_project_rebuilds_on_import(tmp_path: Path, venv: VirtualEnv) -> None:
    crate = crate_copy(tmp_path, "pyo3-pure")
    develop(crate, venv)
    code = "import pyo3_pure; print(pyo3_pure.DummyClass.get_42())"
    assert python(venv, code, tmp_path)[:2] == (0, "42")
    edit(crate / "src" / "lib.rs", "        42\n", "        43\n")
    status, out, err = python(venv, code, tmp_path, MATURIN_NOX_REBUILD="verbose")
    assert (status, out) == (0, "43"), err
    assert "Compiling pyo3-pure" in err and REBUILT in err


def test_a_cffi_project_rebuilds_its_library_and_glue_on_import(
    tmp_path: Path, venv: VirtualEnv
) -> None:
    venv.install("cffi")
    crate = crate_copy(tmp_path, "cffi-mixed")
    develop(crate, venv)
    code = "import cffi_mixed; print(cffi_mixed.area(2.0, 3.0))"
    assert python(venv, code, tmp_path)[:2] == (0, "6.0")
    edit(crate / "src" / "lib.rs", "    a * b\n", "    a * b * 10.0\n")
    status, out, err = python(venv, code, tmp_path)
    assert (status, out) == (0, "60.0"), err


def test_four_processes_importing_at_once_build_once(tmp_path: Path, venv: VirtualEnv) -> None:
    crate = crate_copy(tmp_path, "pyo3-mixed")
    develop(crate, venv)
    edit(crate / "src" / "lib.rs", "    21\n", "    23\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    procs: List[subprocess.Popen[str]] = [
        subprocess.Popen(
            [str(venv.python), "-c", MIXED],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=900), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert [(code, out.strip()) for code, out, _ in results] == [(0, "23")] * 4, results
    assert sum(err.count(REBUILT) for _, _, err in results) == 1, results


def test_a_compile_error_is_an_import_error_and_the_old_library_stays(
    tmp_path: Path, venv: VirtualEnv
) -> None:
    crate = crate_copy(tmp_path, "pyo3-mixed")
    develop(crate, venv)
    edit(crate / "src" / "lib.rs", "    21\n", "    this is not rust\n")
    code, out, err = python(venv, MIXED, tmp_path)
    assert code == 1 and "error" in err  # cargo's errors are shown
    last = err.strip().splitlines()[-1]
    assert last.startswith("ImportError: maturin-nox could not rebuild pyo3-mixed after ")
    assert "the previous library is unchanged" in last
    # opted out, or lenient: the previous library is imported as it is
    assert python(venv, MIXED, tmp_path, MATURIN_NOX_REBUILD="0") == (0, "21", "")
    code, out, err = python(venv, MIXED, tmp_path, MATURIN_NOX_REBUILD="lenient")
    assert (code, out) == (0, "21") and "importing the previous library" in err


def test_opting_out_in_pyproject_installs_no_finder(tmp_path: Path, venv: VirtualEnv) -> None:
    crate = crate_copy(tmp_path, "pyo3-mixed")
    (crate / "pyproject.toml").write_text(
        (crate / "pyproject.toml").read_text() + "\n[tool.maturin-nox]\nrebuild-on-import = false\n"
    )
    develop(crate, venv)
    site = next(venv.path.glob("lib/python*/site-packages"))
    assert not list(site.glob("_maturin_nox_rebuild_*"))
    edit(crate / "src" / "lib.rs", "    21\n", "    22\n")
    assert python(venv, MIXED, tmp_path) == (0, "21", "")  # stale, silently


def test_a_process_that_already_loaded_the_library_is_told_to_restart(
    tmp_path: Path, venv: VirtualEnv
) -> None:
    crate = crate_copy(tmp_path, "pyo3-mixed")
    develop(crate, venv)
    lib = crate / "src" / "lib.rs"
    rebuild_elsewhere = (
        "import importlib, pathlib, subprocess, sys\n"
        "import pyo3_mixed\n"
        f"p = pathlib.Path({str(lib)!r}); p.write_text(p.read_text().replace('    21\\n', '    24\\n'))\n"
        f"subprocess.run([sys.executable, '-c', {MIXED!r}], check=True)\n"
        "importlib.reload(pyo3_mixed)\n"
        "print(pyo3_mixed.get_21())\n"
    )
    code, out, err = python(venv, rebuild_elsewhere, tmp_path)
    assert code == 0, err
    assert out.splitlines() == ["24", "21"]  # the child sees the new code, this process the old
    assert err.count("cannot be reloaded: restart Python") == 1, err


def test_pip_editable_install_through_the_backend_rebuilds_on_import(
    tmp_path: Path, venv: VirtualEnv
) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
    )
    crate = crate_copy(tmp_path, "pyo3-mixed")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PIP_FIND_LINKS=str(wheels),
        CARGO_TARGET_DIR=str(TARGET),
        MATURIN_PEP517_ARGS="--profile dev",
        MATURIN_NOX_CACHE_DIR=str(tmp_path / "cache"),
    )
    cmd = [
        str(venv.python),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "-e",
        str(crate),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert python(venv, MIXED, tmp_path)[:2] == (0, "21")
    edit(crate / "src" / "lib.rs", "    21\n", "    25\n")
    code, out, err = python(venv, MIXED, tmp_path, MATURIN_NOX_CACHE_DIR=str(tmp_path / "cache"))
    assert (code, out) == (0, "25"), err
    # no maturin-nox in the project's environment: the rebuild ran the engine's copy
    assert python(venv, "import maturin_nox", tmp_path)[0] == 1
