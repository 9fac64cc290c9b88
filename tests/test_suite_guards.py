"""The suite's own guards, tried on small inner test runs: a test that runs cargo
without the slow mark fails, and in CI a skip for a tool .ci/setup provides fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

CONFTEST = Path(__file__).with_name("conftest.py")

INNER = """
import subprocess

import pytest


def test_runs_cargo_and_swallows_the_failure():
    subprocess.run(["cargo", "build"], capture_output=True)


def test_runs_the_engine_s_cargo():
    from maturin_nox.cargo import cargo_executable

    assert subprocess.run([cargo_executable(), "metadata"], capture_output=True).returncode == 97


def test_without_cargo():
    assert True


def test_skips_for_a_ci_tool():
    pytest.skip("pypy3 is not installed")


def test_skips_for_something_else():
    pytest.skip("manylinux audits happen on Linux only")
"""


def _inner_run(tmp_path: Path, env: Dict[str, str]) -> str:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: runs cargo\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    return proc.stdout + proc.stderr


def test_an_unmarked_test_that_runs_cargo_fails_even_if_it_catches_the_error(
    tmp_path: Path,
) -> None:
    out = _inner_run(tmp_path, {"MATURIN_NOX_CI": "0"})
    assert "ERROR test_inner.py::test_runs_cargo_and_swallows_the_failure" in out, out
    assert "ran `cargo build` (1 cargo call(s)) but is not marked @pytest.mark.slow" in out
    assert "ERROR test_inner.py::test_runs_the_engine_s_cargo" in out
    assert "PASSED test_inner.py::test_without_cargo" in out
    assert "SKIPPED [1] test_inner.py:" in out and "pypy3 is not installed" in out


def test_in_ci_a_skip_for_a_tool_that_setup_installs_fails(tmp_path: Path) -> None:
    out = _inner_run(tmp_path, {"MATURIN_NOX_CI": "1"})
    assert "FAILED test_inner.py::test_skips_for_a_ci_tool" in out, out
    assert ".ci/setup is meant to provide pypy3: pypy3 is not installed" in out
    assert "Linux only" in out and "FAILED test_inner.py::test_skips_for_something_else" not in out
