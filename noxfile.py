"""maturin-nox's own tasks: lint, tests, benchmarks.

    nox -s lint                    # ruff check, ruff format --check, mypy --strict (as CI)
    nox -s tests                   # the test suite (pytest args after --)
    nox -s tests -- -k sessions -x
    nox -s benchmarks              # every benchmarks/*.py; names after -- pick some

The environments come from maturin_nox.venv, the same manager the reusable
sessions use: cached per interpreter and tool list (uv when installed), with the
project installed editable, so a second run only pays for the task itself.
The interpreter is $MATURIN_NOX_PYTHON, else the one running nox.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List

import nox

from maturin_nox.venv import VenvManager, VirtualEnv

ROOT = Path(__file__).resolve().parent
PYTHON = os.environ.get("MATURIN_NOX_PYTHON") or f"{sys.version_info[0]}.{sys.version_info[1]}"
LINT_TOOLS = ["ruff>=0.6", "mypy>=1.10"]
# what .ci/run lints too
LINTED = [
    "maturin_nox",
    "sessions",
    "tests",
    "benchmarks",
    "noxfile.py",
    "test-crates/verify_with_maturin.py",
]

nox.options.sessions = ["lint", "tests"]


def _env(session: nox.Session, tools: List[str], extras: List[str]) -> VirtualEnv:
    """The cached environment with `tools`, and this checkout installed editable into it."""
    try:
        env = VenvManager().get(PYTHON, tools)
        env.install(editable=ROOT, extras=extras)
    except Exception as exc:  # a VenvError is one sentence: show it, not a traceback
        session.error(str(exc).rstrip("."))
    return env


def _run(session: nox.Session, env: VirtualEnv, *args: str) -> None:
    """Run a command in the env from the checkout; a failure fails the session."""
    proc = env.run(list(args), cwd=ROOT, check=False)
    if proc.returncode != 0:
        session.error(f"`{' '.join(args)}` failed (exit {proc.returncode})")


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and mypy --strict, as CI runs them (config in pyproject.toml)."""
    env = _env(session, LINT_TOOLS, ["test"])  # tox, pytest... typed for mypy
    _run(session, env, "ruff", "check", *LINTED)
    _run(session, env, "ruff", "format", "--check", *LINTED)
    _run(session, env, "python", "-m", "mypy", "--strict", *(session.posargs or ["maturin_nox"]))


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The pytest suite (real cargo, interpreters, venvs and index servers); args after --."""
    env = _env(session, [], ["test"])
    _run(session, env, "python", "-m", "pytest", *session.posargs)


@nox.session(venv_backend="none")
def benchmarks(session: nox.Session) -> None:
    """Run benchmarks/*.py (or those named after --), each timing the engine against maturin."""
    env = _env(session, [], ["test"])
    scripts = sorted((ROOT / "benchmarks").glob("*.py"))
    if session.posargs:
        wanted = set(session.posargs)
        scripts = [s for s in scripts if s.name in wanted or s.stem in wanted]
        if not scripts:
            session.error(f"No benchmark named {', '.join(sorted(wanted))} in benchmarks/")
    for script in scripts:
        session.log(f"Running {script.relative_to(ROOT)}")
        _run(session, env, "python", str(script))
