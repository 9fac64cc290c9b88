"""Shared fixtures: one cargo target cache per test session, wheels built once
per crate and interpreter set, fresh virtual environments, check scripts run
from a temporary folder (never the source tree)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
CRATES = REPO / "test-crates"
PYTHONS = ("3.9", "3.12")

# Shared across the session (and across runs on the same machine): cargo's
# fingerprints make a warm cache as fast as a no-op.
TARGET = Path(
    os.environ.get("MATURIN_NOX_TEST_TARGET", Path.home() / ".cache" / "maturin-nox-tests" / "target")
)


def pyenv_python(version: str) -> Path:
    """The pyenv-installed interpreter for ``3.X``."""
    from maturin_nox.interpreters import resolve

    return Path(resolve(version).executable)


@pytest.fixture(scope="session")
def cargo_target() -> Path:
    """The cargo target directory root every test build shares."""
    TARGET.mkdir(parents=True, exist_ok=True)
    return TARGET


WheelKey = Tuple[str, Tuple[str, ...], Tuple[Tuple[str, object], ...]]


class WheelBuilder:
    """Builds a test crate with maturin-nox once per session and remembers the wheels."""

    def __init__(self, root: Path, target: Path) -> None:
        self.root = root
        self.target = target
        self._cache: Dict[WheelKey, list] = {}

    def __call__(self, crate: str, pythons: Sequence[str] = PYTHONS, **options: object) -> list:
        from maturin_nox import build

        key: WheelKey = (crate, tuple(pythons), tuple(sorted(options.items())))
        if key not in self._cache:
            out = self.root / f"{crate}-{len(self._cache)}"
            manifest = options.pop("manifest_path", None) or CRATES / crate / "Cargo.toml"
            self._cache[key] = build(
                manifest_path=manifest,
                interpreters=list(pythons),
                out_dir=out,
                target_dir=self.target,
                **options,
            )
        return self._cache[key]


@pytest.fixture(scope="session")
def wheel_builder(tmp_path_factory: pytest.TempPathFactory, cargo_target: Path) -> WheelBuilder:
    """``wheel_builder(crate, pythons, **options) -> [BuiltWheel]``, cached per session."""
    return WheelBuilder(tmp_path_factory.mktemp("wheels"), cargo_target)


@pytest.fixture()
def fresh_venv(tmp_path: Path) -> Callable[[str], Path]:
    """``fresh_venv("3.12")`` makes a new virtualenv (with pip) and returns its python."""
    from maturin_nox.venv import create

    def make(version: str) -> Path:
        env = create(str(pyenv_python(version)), tmp_path / f"venv-{version}", backend="virtualenv")
        return Path(env.python)

    return make


def pip_install(python: Path, *args: str) -> None:
    """Install with the environment's own pip (quietly; output shown on failure)."""
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"pip install {args} failed:\n{proc.stdout}\n{proc.stderr}"


def run_check(python: Path, crate: str, workdir: Path) -> str:
    """Run the crate's check_installed.py from an empty folder with the given python."""
    script = CRATES / crate / "check_installed.py"
    rundir = workdir / f"check-{crate}"
    rundir.mkdir(parents=True, exist_ok=True)
    shutil.copy(script, rundir / "check_installed.py")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    bindir = str(python.parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    proc = subprocess.run(
        [str(python), "check_installed.py"], cwd=rundir, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, f"{crate} check failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def cli(*args: str, cwd: Path | None = None, env: Dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m maturin_nox ARGS`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "maturin_nox", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wheel_names(paths: List[Path]) -> List[str]:
    """Sorted file names."""
    return sorted(p.name for p in paths)


@pytest.fixture(scope="session")
def maturin_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cargo target dir for the reference maturin builds (kept apart from ours)."""
    path = TARGET.parent / "maturin-target"
    path.mkdir(parents=True, exist_ok=True)
    yield path
