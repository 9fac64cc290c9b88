"""The reusable nox sessions, run as a user runs them: real `nox` against copies of test crates.

Each crate is copied and built once per module (two interpreters, the shared cargo
cache through MATURIN_NOX_TARGET_DIR); the tests then run sessions on that copy,
or on a clone of it (wheels included) when they change it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from maturin_nox.gate import RESULTS_FILE, file_sha256

REPO = Path(__file__).resolve().parents[1]
CRATES = REPO / "test-crates"
SESSIONS = REPO / "sessions"
TARGET = Path(
    os.environ.get(
        "MATURIN_NOX_TEST_TARGET", Path.home() / ".cache" / "maturin-nox-tests" / "target"
    )
)
NOXFILE = 'from maturin_nox import sessions\n\nsessions.register(python=["3.9", "3.12"])\n'

pytestmark = pytest.mark.slow


def copy_crate(crate: str, dest: Path, noxfile: Optional[str] = NOXFILE) -> Path:
    """A copy of a test crate without build outputs, with a noxfile."""
    ignore = shutil.ignore_patterns("target", ".nox", "*.so", "__pycache__", ".pytest_cache")
    # Fresh mtimes: with copy2's old ones, cargo could take a newer build of another
    # copy of this crate in the shared target dir for up to date.
    shutil.copytree(CRATES / crate, dest, ignore=ignore, copy_function=shutil.copy)
    if noxfile is not None:
        (dest / "noxfile.py").write_text(noxfile)
    return dest


def clone(project: Path, dest: Path) -> Path:
    """A copy of a project copy, its built wheels and recorded results included."""
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns(".nox", "maturin-nox"))
    return dest


def nox(
    project: Path, *args: str, noxfile: Optional[Path] = None, env: Optional[Dict[str, str]] = None
) -> subprocess.CompletedProcess:
    """Run nox from the project folder; stdout and stderr are merged into .stdout."""
    full_env = {**os.environ, "MATURIN_NOX_TARGET_DIR": str(TARGET), **(env or {})}
    full_env.pop("PYTHONPATH", None)
    cmd = [sys.executable, "-m", "nox", "-f", str(noxfile or project / "noxfile.py"), *args]
    return subprocess.run(
        cmd,
        cwd=project,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )


def ok(proc: subprocess.CompletedProcess) -> str:
    """The output of a nox run that must have succeeded."""
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "Traceback" not in proc.stdout, proc.stdout[-6000:]
    return proc.stdout


def failed(proc: subprocess.CompletedProcess) -> str:
    """The output of a nox run that must have failed cleanly (no traceback)."""
    assert proc.returncode != 0, proc.stdout[-6000:]
    assert "Traceback" not in proc.stdout, proc.stdout[-6000:]
    return proc.stdout


def wheels(project: Path, folder: str = "target/wheels") -> list:
    return sorted(p.name for p in (project / folder).glob("*.whl"))


def results(project: Path) -> dict:
    return json.loads((project / "target" / "wheels" / RESULTS_FILE).read_text())["wheels"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyo3-mixed copied, with the README's two-line noxfile, built for 3.9 and 3.12."""
    project = copy_crate("pyo3-mixed", tmp_path_factory.mktemp("sessions") / "pyo3-mixed")
    ok(nox(project, "-s", "build"))
    return project


def test_nox_lists_every_session_of_register(mixed: Path) -> None:
    out = ok(nox(mixed, "-l"))
    for name in ("build", "develop", "test", "audit", "sdist", "publish"):
        assert f" {name} -> " in out, out


def test_importing_the_sessions_registers_nothing(tmp_path: Path) -> None:
    project = copy_crate("pyo3-mixed", tmp_path / "p", "from maturin_nox import sessions\n")
    out = nox(project, "-l").stdout
    assert "No sessions found" in out and "build ->" not in out


def test_one_session_registers_alone_under_its_own_name(tmp_path: Path) -> None:
    noxfile = (
        "from maturin_nox import sessions\n"
        "sessions.build(python=['3.12'], name='wheels', wheel_dir='dist')\n"
        "sessions.test(python=['3.12'], wheel_dir='dist')\n"
    )
    project = copy_crate("pyo3-mixed", tmp_path / "p", noxfile)
    out = ok(nox(project, "-l"))
    assert "wheels ->" in out and "test ->" in out and "audit ->" not in out
    ok(nox(project, "-s", "wheels"))
    built = wheels(project, "dist")
    assert len(built) == 1 and "-cp312-cp312-" in built[0], built
    assert not (project / "target" / "wheels").exists()


def test_build_makes_one_wheel_per_interpreter_in_target_wheels(mixed: Path) -> None:
    names = wheels(mixed)
    assert len(names) == 2, names
    assert any("-cp39-cp39-" in n for n in names) and any("-cp312-cp312-" in n for n in names)


def test_test_session_installs_each_wheel_and_ends_with_a_table(mixed: Path) -> None:
    out = ok(nox(mixed, "-s", "test"))
    table = out[out.index("Interpreter") :]
    assert "CPython 3.9" in table and "CPython 3.12" in table
    assert table.count("passed") == 2, table
    assert "3 passed" in out  # the crate's own pytest file ran against each wheel
    recorded = results(mixed)
    for name in wheels(mixed):
        entry = recorded[name]
        assert entry["sha256"] == file_sha256(mixed / "target" / "wheels" / name)
        assert [run["ok"] for run in entry["tests"].values()] == [True]


def test_test_command_runs_against_the_wheel_from_a_temporary_folder(mixed: Path) -> None:
    code = (
        "import os, pyo3_mixed; "
        "assert 'site-packages' in pyo3_mixed.__file__, pyo3_mixed.__file__; "
        "assert os.path.isfile('tests/test_pyo3_mixed.py'); "
        "print('RUN-IN', os.getcwd())"
    )
    out = ok(nox(mixed, "-s", "test", "--", "python", "-c", code))
    folders = [
        line.split("RUN-IN", 1)[1].strip() for line in out.splitlines() if line.startswith("RUN-IN")
    ]
    assert len(folders) == 2 and not any(f.startswith(str(mixed)) for f in folders)


def test_a_failing_test_command_fails_the_session_and_is_recorded(
    mixed: Path, tmp_path: Path
) -> None:
    project = clone(mixed, tmp_path / "p")
    out = failed(nox(project, "-s", "test", "--", "python", "-c", "raise SystemExit(3)"))
    assert out.count("FAILED (exit 3)") == 2 and "2 of 2 wheel test runs failed" in out
    assert all(not run["ok"] for e in results(project).values() for run in e["tests"].values())


def test_audit_session_audits_and_records_every_wheel(mixed: Path) -> None:
    out = ok(nox(mixed, "-s", "audit"))
    assert out.count("passed (manylinux_") == 2, out
    assert all(e["audit"]["ok"] for e in results(mixed).values())


def test_sdist_session_writes_the_sdist_next_to_the_wheels(mixed: Path) -> None:
    ok(nox(mixed, "-s", "sdist"))
    assert (mixed / "target" / "wheels" / "pyo3_mixed-0.4.0.tar.gz").is_file()


def test_develop_installs_into_a_fresh_env_and_runs_the_command(mixed: Path) -> None:
    code = "import sys, pyo3_mixed; print('DEV', sys.version_info[:2], pyo3_mixed.get_42())"
    out = ok(nox(mixed, "-s", "develop", "--", "python", "-c", code))
    assert "DEV (3, 9) 42" in out
    assert (mixed / ".nox" / "develop" / "pyvenv.cfg").is_file()


def test_test_without_built_wheels_says_to_build_first(tmp_path: Path) -> None:
    project = copy_crate("pyo3-mixed", tmp_path / "p")
    out = failed(nox(project, "-s", "test"))
    assert "There are no wheels in" in out and "run `nox -s build` first" in out


def test_a_python_that_is_not_installed_is_nox_own_skip_or_error(tmp_path: Path) -> None:
    project = copy_crate(
        "pyo3-mixed",
        tmp_path / "p",
        'from maturin_nox import sessions\nsessions.register(python=["3.99"])\n',
    )
    out = ok(nox(project, "-s", "build", "--no-error-on-missing-interpreters"))
    assert "Python interpreter 3.99 not found" in out and "skipped" in out.lower()
    out = failed(nox(project, "-s", "build", "--error-on-missing-interpreters"))
    assert "Python interpreter 3.99 not found" in out
    assert not (project / "target" / "wheels").exists()


def test_abi3_crate_builds_one_wheel_that_every_interpreter_tests(tmp_path: Path) -> None:
    project = copy_crate("pyo3-abi3", tmp_path / "abi3")
    ok(nox(project, "-s", "build"))
    names = wheels(project)
    assert len(names) == 1 and "-abi3-" in names[0], names
    out = ok(nox(project, "-s", "test"))  # no tests folder: an import smoke test
    table = out[out.index("Interpreter") :]
    assert "CPython 3.9" in table and "CPython 3.12" in table and table.count("passed") == 2


def test_ready_made_dev_loop_noxfile_runs_from_the_project_folder(mixed: Path) -> None:
    code = "import sys, pyo3_mixed; print('LOOP', sys.version_info[:2], pyo3_mixed.get_21())"
    out = ok(
        nox(
            mixed,
            "-s",
            "develop",
            "--",
            "python",
            "-c",
            code,
            noxfile=SESSIONS / "dev_loop.py",
            env={"MATURIN_NOX_PYTHONS": "3.12"},
        )
    )
    assert "LOOP (3, 12) 21" in out


def test_ready_made_ci_matrix_noxfile_builds_tests_and_audits(mixed: Path, tmp_path: Path) -> None:
    project = clone(mixed, tmp_path / "p")
    shutil.rmtree(project / "target")
    out = ok(
        nox(project, noxfile=SESSIONS / "ci_matrix.py", env={"MATURIN_NOX_PYTHONS": "3.9,3.12"})
    )
    for session in ("build", "test", "audit"):
        assert f"* {session}: success" in out, out[-3000:]
    recorded = results(project)
    assert len(recorded) == 2
    assert all(e["audit"]["ok"] and len(e["tests"]) == 1 for e in recorded.values())


def test_the_project_noxfile_lists_its_own_tasks() -> None:
    out = ok(nox(REPO, "-l", noxfile=REPO / "noxfile.py"))
    for name in ("lint", "tests", "benchmarks"):
        assert f" {name} -> " in out, out
