"""Start-up imports only what a command uses (python -X importtime is the witness, not a clock)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from conftest import CRATES, TARGET, pyenv_python

REPO = Path(__file__).resolve().parents[1]


def imported(args: List[str], cwd: Path) -> List[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "maturin_nox", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    ]


def test_version_imports_no_engine_module(tmp_path: Path) -> None:
    modules = imported(["--version"], tmp_path)
    front = {
        "maturin_nox",
        "maturin_nox.__main__",
        "maturin_nox.cli",
        "maturin_nox.console",
        "maturin_nox.errors",
    }
    assert {m for m in modules if m.startswith("maturin_nox")} <= front
    assert "packaging" not in modules


@pytest.mark.slow
def test_a_no_op_build_reads_no_elf_and_imports_no_elf_reader(tmp_path: Path) -> None:
    crate = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target", "*.so"))
    args = [
        "build",
        "-i",
        str(pyenv_python("3.12")),
        "--target-dir",
        str(TARGET),
        "-o",
        str(tmp_path / "o"),
    ]
    first = imported(args, crate)
    assert "elftools" in first  # the first build audits the library
    again = imported(args, crate)
    assert "elftools" not in again and "maturin_nox.audit.analyze" not in again
    # metadata found valid once is remembered: packaging.metadata is not imported again
    assert "packaging.metadata" not in again
