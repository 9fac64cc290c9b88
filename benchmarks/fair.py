"""What keeps a side-by-side run fair: both tools started the way a user starts them.

- maturin is run as its own executable, not through a pyenv shim (a shell script
  that costs ~40 ms per call and would be counted as maturin's time);
- maturin-nox, run from this checkout, gets its bytecode compiled first, as
  ``pip install`` compiles it: a machine with ``PYTHONDONTWRITEBYTECODE=1`` would
  otherwise recompile every module on every run (~45 ms a command).
"""

from __future__ import annotations

import compileall
import shutil
import subprocess
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]


def real_executable(name: str) -> Optional[str]:
    """``name`` on PATH, with a pyenv shim resolved to the program it would run."""
    found = shutil.which(name)
    if found is None or "/shims/" not in found or not shutil.which("pyenv"):
        return found
    proc = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
    path = proc.stdout.strip()
    return path if proc.returncode == 0 and path else found


def maturin() -> str:
    """maturin's own executable; exits with a hint when it is not installed."""
    path = real_executable("maturin")
    if path is None:
        raise SystemExit("maturin is not installed: pip install maturin (it is in the test extra).")
    return path


def compile_checkout() -> None:
    """Write the checkout's bytecode, as pip does when it installs maturin-nox."""
    for folder in ("maturin_nox", "sessions", "full"):
        if (REPO / folder).is_dir():
            compileall.compile_dir(str(REPO / folder), quiet=1)
