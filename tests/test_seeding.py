"""A cold interpreter matrix compiles its interpreter-independent crates once.

A fresh cargo target root, the pyo3-pure crate built for two interpreters: the
second configuration starts from a copy of the first, so cargo compiles syn,
quote and proc-macro2 once and pyo3 (which reads PYO3_PYTHON) twice. The copies
share no inodes, so rebuilding one configuration leaves the other correct.
By default the others are copied while the first still builds, once its
interpreter-independent crates are built; MATURIN_NOX_EARLY_SEED=0 waits for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest
from conftest import CRATES, pip_install, pyenv_python, run_check

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def build(
    crate: Path,
    target: Path,
    out: Path,
    versions: Sequence[str] = ("3.9", "3.12"),
    env: Optional[Dict[str, str]] = None,
    verbose: bool = False,
) -> str:
    cmd = [
        sys.executable,
        "-m",
        "maturin_nox",
        "build",
        *(["-v"] if verbose else []),
        "-o",
        str(out),
        "--target-dir",
        str(target),
    ]
    for version in versions:
        cmd += ["-i", str(pyenv_python(version))]
    run_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run(cmd, cwd=crate, env=run_env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


EARLY = "Starting the other interpreters from"


def test_the_second_interpreter_starts_from_the_first_ones_build(
    tmp_path: Path, fresh_venv
) -> None:
    crate = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target", "*.so"))
    target = tmp_path / "target"  # cold: nothing built yet
    err = build(crate, target, tmp_path / "out", env={"MATURIN_NOX_EARLY_SEED": "0"})
    for shared in ("syn", "quote", "proc-macro2"):
        assert err.count(f"Compiling {shared} v") == 1, err
    assert err.count("Compiling pyo3 v") == 2, err
    configs = sorted(p for p in (target / "maturin-nox").iterdir() if p.is_dir())
    assert len(configs) == 2
    syn = [next((c / "debug" / "deps").glob("libsyn-*.rlib")) for c in configs]
    assert syn[0].name == syn[1].name and os.stat(syn[0]).st_ino != os.stat(syn[1]).st_ino
    # an edit rebuilds both configurations from their own folders; both wheels work
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("a + b\n", "a + b + 0\n", 1))
    err = build(crate, target, tmp_path / "out")
    assert err.count("Compiling pyo3-pure v") == 2 and "Compiling syn" not in err, err
    for wheel in sorted((tmp_path / "out").glob("*.whl")):
        version = "3.9" if "-cp39-" in wheel.name else "3.12"
        python = fresh_venv(version)
        pip_install(python, str(wheel))
        assert "OK" in run_check(python, "pyo3-pure", tmp_path)


def test_a_cold_matrix_starts_the_others_while_the_first_builds(tmp_path: Path, fresh_venv) -> None:
    """Copied from a target folder cargo is still writing: the shared crates stay fresh in
    every copy (compiled once in all), and every wheel works."""
    crate = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target", "*.so"))
    target = tmp_path / "target"
    versions = ("3.9", "3.12", "3.13")
    err = build(
        crate, target, tmp_path / "out", versions, env={"MATURIN_NOX_EARLY_SEED": "1"}, verbose=True
    )
    assert EARLY in err, err
    # (parallel cargos interleave their -v output: the target folders are the witnesses)
    configs = sorted(p for p in (target / "maturin-nox").iterdir() if p.is_dir())
    assert len(configs) == 3

    def built(crate_name: str) -> List[int]:
        return [
            next((c / "debug" / "deps").glob(f"lib{crate_name}-*.rlib")).stat().st_mtime_ns
            for c in configs
        ]

    for shared in ("syn", "quote", "proc_macro2", "unindent"):
        assert len(set(built(shared))) == 1, shared  # compiled once, copied with its mtime
    assert len(set(built("pyo3"))) == 3  # compiled for each interpreter
    wheels = sorted((tmp_path / "out").glob("*.whl"))
    assert len(wheels) == 3
    for wheel, version in zip(wheels, ("3.12", "3.13", "3.9")):  # cp312 < cp313 < cp39
        assert f"-cp{version.replace('.', '')}-" in wheel.name
        python = fresh_venv(version)
        pip_install(python, str(wheel))
        assert "OK" in run_check(python, "pyo3-pure", tmp_path)
    # a second build is a no-op in every configuration
    err = build(crate, target, tmp_path / "out", versions)
    assert "Compiling" not in err, err
