"""Testing built wheels: which interpreter tests which wheel, and one test run in a fresh env.

Free of nox. A run installs the wheel (with its ``test`` extra when it has one)
into a fresh environment made by :mod:`maturin_nox.venv` (uv when present) and
runs the test command from a temporary folder holding a copy of the project's
tests, so that the installed wheel, not the checkout, is what gets imported.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from ..errors import MaturinNoxError
from ..gate import TestResult, file_sha256
from ..interpreters import Interpreter, InterpreterError, resolve
from ..venv import VenvManager, VirtualEnv
from ..wheel import read_wheel

__all__ = [
    "TestPlan",
    "default_command",
    "plan_runs",
    "run_wheel_tests",
    "smoke_command",
    "tests_folder",
    "wheel_extras",
    "wheel_fits",
]

log = logging.getLogger("maturin_nox")

TESTS_FOLDERS = ("tests", "test")
# Files at the project root that shape how pytest runs the tests folder.
_PYTEST_FILES = ("conftest.py", "pytest.ini")


def _tags(wheel: Path) -> List[Tuple[str, str]]:
    """The (python, abi) pairs a wheel's file name claims."""
    from packaging.utils import parse_wheel_filename

    return sorted({(t.interpreter, t.abi) for t in parse_wheel_filename(wheel.name)[3]})


def wheel_fits(wheel: Path, interp: Interpreter) -> bool:
    """Whether the interpreter can install the wheel (its platform is taken to be ours)."""
    version = (interp.major, interp.minor)
    for python, abi in _tags(wheel):
        if (python, abi) == (interp.python_tag, interp.abi_tag):
            return True
        if abi == "abi3":
            low = _version(python, "cp")
            if interp.implementation == "cpython" and not interp.gil_disabled and low:
                if low[0] == version[0] and low <= version:
                    return True
        if abi == "none":
            if python == interp.python_tag:
                return True
            low = _version(python, "py")
            if low and low[0] == version[0] and (len(low) == 1 or low <= version):
                return True
    return False


def _version(python_tag: str, prefix: str) -> Optional[Tuple[int, ...]]:
    """``cp38`` -> (3, 8), ``py3`` -> (3,); None for other prefixes."""
    digits = python_tag[len(prefix) :]
    if not python_tag.startswith(prefix) or not digits.isdigit():
        return None
    return (int(digits[0]),) if len(digits) == 1 else (int(digits[0]), int(digits[1:]))


@dataclass(frozen=True)
class TestPlan:
    """One wheel and the interpreter that will test it (None: no interpreter can)."""

    __test__ = False

    wheel: Path
    interpreter: Optional[Interpreter]


def plan_runs(wheels: Sequence[Path], interps: Sequence[Interpreter]) -> List[TestPlan]:
    """Every wheel with every listed interpreter that fits it; else the one its tag names."""
    plans: List[TestPlan] = []
    for wheel in wheels:
        fitting = [i for i in interps if wheel_fits(wheel, i)]
        if not fitting:
            fallback = _interpreter_for(wheel)
            fitting = [fallback] if fallback is not None else []
        plans += [TestPlan(wheel, i) for i in fitting] or [TestPlan(wheel, None)]
    return plans


def _interpreter_for(wheel: Path) -> Optional[Interpreter]:
    """An installed interpreter for a ``cpXY`` wheel none of the listed ones fits."""
    for python, _ in _tags(wheel):
        low = _version(python, "cp")
        if low and len(low) == 2:
            try:
                interp = resolve(f"{low[0]}.{low[1]}")
            except InterpreterError:
                continue
            if wheel_fits(wheel, interp):
                log.info(
                    "Testing %s with %s, which no listed Python fits", wheel.name, interp.display()
                )
                return interp
    return None


def tests_folder(project_dir: Path) -> Optional[Path]:
    """The project's tests folder (``tests`` or ``test``), if it has one."""
    for name in TESTS_FOLDERS:
        if (project_dir / name).is_dir():
            return project_dir / name
    return None


def smoke_command(modules: Sequence[str], dist_name: str) -> Tuple[str, ...]:
    """A command that imports the modules and asks for the distribution's version."""
    code = "".join(f"import {m}; " for m in modules)
    code += f"from importlib.metadata import version; print({dist_name!r}, version({dist_name!r}))"
    return ("python", "-c", code)


def default_command(project_dir: Path, wheel: Path) -> Tuple[str, ...]:
    """pytest on the tests folder; without one, import the wheel's modules as a smoke test."""
    folder = tests_folder(project_dir)
    if folder is not None:
        return ("python", "-m", "pytest", folder.name)
    contents = read_wheel(wheel, verify_record=False)
    tops = {name.split("/", 1)[0] for name in contents.files}
    modules = sorted(
        {
            top.split(".", 1)[0]
            for top in tops
            if not top.endswith((".dist-info", ".data")) and top.split(".", 1)[0].isidentifier()
        }
    )
    return smoke_command(modules, contents.name)


def wheel_extras(wheel: Path) -> List[str]:
    """The extras a wheel's METADATA declares."""
    metadata = read_wheel(wheel, verify_record=False).metadata()
    return HeaderParser().parsestr(metadata).get_all("Provides-Extra") or []


def _copy_tests(project_dir: Path, workdir: Path) -> None:
    """Copy the tests folder and root pytest files into the run folder."""
    folder = tests_folder(project_dir)
    if folder is not None:
        ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
        shutil.copytree(folder, workdir / folder.name, ignore=ignore)
    for name in _PYTEST_FILES:
        if (project_dir / name).is_file():
            shutil.copy2(project_dir / name, workdir / name)
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file() and "[tool.pytest" in pyproject.read_text(encoding="utf-8"):
        shutil.copy2(pyproject, workdir / "pyproject.toml")


def _install(env: VirtualEnv, wheel: Path, command: Sequence[str], default: bool) -> None:
    """Install the wheel with its test extra, and pytest when the default command needs it."""
    extras = ["test"] if "test" in wheel_extras(wheel) else []
    env.install(wheels=[wheel], extras=extras)
    if default and not extras and "pytest" in command:
        env.install("pytest")


def run_wheel_tests(
    wheel: Path,
    interp: Interpreter,
    project_dir: Path,
    command: Optional[Sequence[str]] = None,
    *,
    manager: Optional[VenvManager] = None,
) -> TestResult:
    """Install the wheel into a fresh env for `interp` and run the tests from a copy of them."""
    sha = file_sha256(wheel)
    default = not command
    cmd = tuple(command) if command else default_command(project_dir, wheel)
    label = f"{interp.implementation_name} {'.'.join(map(str, interp.version))}"

    def result(ok: bool, detail: str = "") -> TestResult:
        return TestResult(wheel.name, sha, label, str(interp.executable), ok, cmd, detail)

    with (manager or VenvManager()).ephemeral(interp) as env:
        try:
            _install(env, wheel, cmd, default)
        except MaturinNoxError as exc:
            log.warning("%s", exc)
            return result(False, "install failed")
        workdir = Path(tempfile.mkdtemp(prefix="maturin-nox-test-"))
        try:
            _copy_tests(project_dir, workdir)
            log.info("Testing %s with %s: %s", wheel.name, label, shlex.join(cmd))
            # An inherited PYTHONPATH could put the checkout before the installed wheel.
            proc = env.run(cmd, cwd=workdir, env={"PYTHONPATH": ""}, check=False)
        except MaturinNoxError as exc:
            log.warning("%s", exc)
            return result(False, "could not run")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return result(proc.returncode == 0, "" if proc.returncode == 0 else f"exit {proc.returncode}")
