"""Every front runs ``cargo metadata`` once per command or hook.

A ``cargo`` shim first on PATH logs each invocation and runs the real cargo;
the fronts are run as users run them (the command, the PEP 517 hooks in a
fresh interpreter, a real tox run) on a private copy of a test crate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import CRATES, TARGET, pyenv_python

from maturin_nox.venv import create

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PYTHON = "3.12"


@pytest.fixture()
def shim(tmp_path: Path) -> Dict[str, str]:
    """An environment whose PATH starts with a logging cargo shim; the log is $CARGO_CALLS."""
    real = shutil.which("cargo")
    assert real is not None
    bindir = tmp_path / "shim-bin"
    bindir.mkdir()
    log = tmp_path / "cargo-calls.log"
    script = bindir / "cargo"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{real}" "$@"\n')
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("CARGO", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
    env["PYTHONPATH"] = str(REPO)
    env["CARGO_CALLS"] = str(log)
    # the fronts' own count: the cache that answers a second run without cargo is off here
    env["MATURIN_NOX_METADATA_CACHE"] = "0"
    # each front's own calls: a backend's warm build (maturin_nox.warm) is a process of its own
    env["MATURIN_NOX_WARM"] = "0"
    return env


def calls(env: Dict[str, str]) -> List[str]:
    """The cargo subcommands run so far, then forget them."""
    log = Path(env["CARGO_CALLS"])
    if not log.exists():
        return []
    lines = log.read_text().split()
    log.unlink()
    return lines


def crate_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", dest, ignore=shutil.ignore_patterns("target", "*.so"))
    return dest


def run(cmd: List[str], cwd: Path, env: Dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_build_and_develop_run_cargo_metadata_once(tmp_path: Path, shim: Dict[str, str]) -> None:
    crate = crate_copy(tmp_path)
    python = str(pyenv_python(PYTHON))
    build = [sys.executable, "-m", "maturin_nox", "build", "-i", python]
    run([*build, "--target-dir", str(TARGET), "-o", str(tmp_path / "out")], crate, shim)
    assert calls(shim).count("metadata") == 1
    venv = create(python, tmp_path / "venv", backend="virtualenv")
    env = {**shim, "VIRTUAL_ENV": str(venv.path)}
    run([sys.executable, "-m", "maturin_nox", "develop", "--target-dir", str(TARGET)], crate, env)
    assert calls(shim).count("metadata") == 1


def test_an_unchanged_project_runs_no_cargo_at_all_the_second_time(
    tmp_path: Path, shim: Dict[str, str]
) -> None:
    crate = crate_copy(tmp_path)
    env = {
        **shim,
        "MATURIN_NOX_METADATA_CACHE": "1",
        "MATURIN_NOX_CACHE_DIR": str(tmp_path / "cache"),
    }
    python = str(pyenv_python(PYTHON))
    build = [sys.executable, "-m", "maturin_nox", "build", "-i", python]
    build += ["--target-dir", str(TARGET), "-o", str(tmp_path / "out")]
    run(build, crate, env)
    assert "metadata" in calls(shim)
    # nothing changed: cargo metadata comes from the cache, the build from its record
    run(build, crate, env)
    assert calls(shim) == []
    # a manifest edit is seen: cargo runs again
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text() + "\n")
    run(build, crate, env)
    assert calls(shim).count("metadata") == 1


def test_the_metadata_cache_sees_a_new_target_file_but_not_a_source_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cargo discovers ``src/main.rs`` and ``src/bin/*.rs`` without a manifest naming them:
    adding one changes what ``cargo metadata`` says, editing a source file does not."""
    from maturin_nox.cargo import metadata

    monkeypatch.setenv("MATURIN_NOX_METADATA_CACHE", "1")
    monkeypatch.setenv("MATURIN_NOX_CACHE_DIR", str(tmp_path / "cache"))
    crate = tmp_path / "plain"
    (crate / "src").mkdir(parents=True)
    manifest = crate / "Cargo.toml"
    manifest.write_text('[package]\nname = "plain"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "lib.rs").write_text("pub fn f() {}\n")
    subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=crate, check=True)

    def targets() -> List[str]:
        (package,) = metadata(manifest)["packages"]
        return sorted(t["name"] for t in package["targets"])

    cache = tmp_path / "cache" / "cargo-metadata"
    assert targets() == ["plain"]
    (record,) = cache.iterdir()
    stored = record.stat().st_mtime_ns
    (crate / "src" / "lib.rs").write_text("pub fn f() {}\npub fn g() {}\n")
    assert targets() == ["plain"]
    assert record.stat().st_mtime_ns == stored, "a source edit re-ran cargo metadata"
    (crate / "src" / "main.rs").write_text("fn main() {}\n")
    assert targets() == ["plain", "plain"]
    (crate / "src" / "bin").mkdir()
    (crate / "src" / "bin" / "extra.rs").write_text("fn main() {}\n")
    assert targets() == ["extra", "plain", "plain"]
    (crate / "src" / "bin" / "extra.rs").unlink()
    assert targets() == ["plain", "plain"]


HOOKS = {
    "prepare_metadata_for_build_wheel": "b.prepare_metadata_for_build_wheel(out)",
    "build_wheel": "b.build_wheel(out)",
    "build_editable": "b.build_editable(out)",
    "build_sdist": "b.build_sdist(out)",
    "get_requires_for_build_wheel": "b.get_requires_for_build_wheel()",
}


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_each_pep517_hook_runs_cargo_metadata_at_most_once(
    hook: str, tmp_path: Path, shim: Dict[str, str]
) -> None:
    crate = crate_copy(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    code = f"import maturin_nox.backend as b; out = {str(out)!r}; {HOOKS[hook]}"
    env = {**shim, "CARGO_TARGET_DIR": str(TARGET), "MATURIN_PEP517_ARGS": "--profile dev"}
    run([sys.executable, "-c", code], crate, env)
    expected = 0 if hook.startswith("get_requires") else 1
    assert calls(shim).count("metadata") == expected


def test_a_tox_environment_runs_cargo_metadata_once(tmp_path: Path, shim: Dict[str, str]) -> None:
    crate = crate_copy(tmp_path)
    (crate / "tox.ini").write_text(
        "[tox]\nenv_list = py312\n\n[testenv]\nrunner = maturin\n"
        'commands = python -c "import pyo3_pure"\n'
    )
    env = {k: v for k, v in shim.items() if k != "PYTHONPATH" and not k.startswith("TOX_")}
    env["PATH"] = os.pathsep.join([str(pyenv_python(PYTHON).parent), env["PATH"]])
    env["MATURIN_NOX_TARGET_DIR"] = str(TARGET)
    run([sys.executable, "-m", "tox"], crate, env)
    assert calls(shim).count("metadata") == 1
