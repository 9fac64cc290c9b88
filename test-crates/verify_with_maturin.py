"""Build test crates with the reference maturin and run their checks in fresh venvs.

A developer tool, not part of the test suite: it proves each crate is
maturin-compatible and that its ``check_installed.py`` passes against
maturin's own wheels.  Usage::

    python test-crates/verify_with_maturin.py [crate ...] [-i 3.9 -i 3.12]

rust-cpython needs maturin < 1.6: set MATURIN_LEGACY to its executable
(default /tmp/maturin-old/bin/maturin).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
CARGO_TARGET_DIR = os.environ.get("CARGO_TARGET_DIR", "/tmp/tc-target")
WHEELS = Path("/tmp/tc-wheels")
VENVS = Path("/tmp/tc-venvs")

# The crates this script knows about, in the order they are documented in README.md.
CRATES = (
    "pyo3-pure",
    "pyo3-mixed",
    "pyo3-abi3",
    "pyo3-workspace",
    "pyo3-ffi-pure",
    "rust-cpython",
    "hello-bin",
    "cffi-pure",
    "cffi-mixed",
    "pyo3-bin",
    "with-data",
    "linked-lib",
    "pyo3-deps",
)
# Extra `maturin build` arguments a crate needs under the reference tool.
BUILD_ARGS: Dict[str, List[str]] = {}
# maturin >= 1.6 dropped rust-cpython; verify that crate with an older maturin (e.g. 1.5.1).
LEGACY_MATURIN = os.environ.get("MATURIN_LEGACY", "/tmp/maturin-old/bin/maturin")
MATURIN: Dict[str, str] = {"rust-cpython": LEGACY_MATURIN}
# maturin takes a single interpreter for `bin` and `cffi` bindings.
ONE_INTERPRETER_PER_BUILD = {"hello-bin", "pyo3-bin", "cffi-pure", "cffi-mixed"}
# Packages the build interpreter needs (maturin runs cffi's recompiler with it).
BUILD_NEEDS: Dict[str, List[str]] = {"cffi-pure": ["cffi"], "cffi-mixed": ["cffi"]}
# Requirements installed from PyPI before the crate's wheel (which is installed offline).
PRE_INSTALL: Dict[str, List[str]] = {
    "cffi-pure": ["cffi"],
    "cffi-mixed": ["cffi"],
    "pyo3-mixed": ["pytest"],
}


def interpreter(version: str) -> str:
    """Return the path of a pyenv-managed CPython for a version such as `3.12`."""
    for candidate in sorted(PYENV.glob(f"{version}.*")):
        exe = candidate / "bin" / "python3"
        if exe.exists():
            return str(exe)
    found = shutil.which(f"python{version}")
    if not found:
        raise SystemExit(f"no interpreter for {version}")
    return found


def project_name(crate_dir: Path) -> str:
    """Read `[project] name` from a crate's pyproject.toml."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    with open(crate_dir / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["name"])


def build_interpreter(crate: str, version: str) -> str:
    """Return the interpreter maturin builds with: a venv when the crate needs packages in it."""
    needs = BUILD_NEEDS.get(crate)
    if not needs:
        return interpreter(version)
    venv = VENVS / f"build-{'-'.join(needs)}-{version}"
    if not (venv / "bin" / "python").exists():
        run([interpreter(version), "-m", "venv", str(venv)])
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *needs])
    return str(venv / "bin" / "python")


def run(cmd: List[str], **kwargs: object) -> None:
    """Run a command, echoing it, and fail loudly on a non-zero exit."""
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def verify(crate: str, versions: List[str]) -> None:
    """Build one crate for the given interpreters and run its check in a venv per interpreter."""
    crate_dir = HERE / crate
    out = WHEELS / crate
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, CARGO_TARGET_DIR=CARGO_TARGET_DIR)
    base = [
        MATURIN.get(crate, "maturin"),
        "build",
        "--profile",
        "dev",
        "-o",
        str(out),
        *BUILD_ARGS.get(crate, []),
    ]
    if crate in ONE_INTERPRETER_PER_BUILD:
        for version in versions:
            run([*base, "-i", build_interpreter(crate, version)], cwd=crate_dir, env=env)
    else:
        run(
            [*base, *(arg for v in versions for arg in ("-i", build_interpreter(crate, v)))],
            cwd=crate_dir,
            env=env,
        )
    name = project_name(crate_dir)
    for version in versions:
        venv = VENVS / f"{crate}-{version}"
        shutil.rmtree(venv, ignore_errors=True)
        run([interpreter(version), "-m", "venv", str(venv)])
        py = str(venv / "bin" / "python")
        pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        if PRE_INSTALL.get(crate):
            run([*pip, *PRE_INSTALL[crate]])
        run([*pip, "--no-index", "--find-links", str(out), name])
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(crate_dir / "check_installed.py", tmp)
            run([py, "check_installed.py"], cwd=tmp)
            if (crate_dir / "tests").is_dir():
                shutil.copytree(crate_dir / "tests", Path(tmp) / "tests")
                run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tmp)


def main() -> int:
    """Verify the named crates (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crates", nargs="*")
    parser.add_argument("-i", dest="versions", action="append", default=[])
    args = parser.parse_args()
    crates = args.crates or list(CRATES)
    for crate in crates:
        verify(crate, args.versions or ["3.9", "3.12"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
