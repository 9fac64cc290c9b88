"""Building against an old glibc with zig (``cargo-zigbuild`` and ``ziglang`` from PyPI).

``cargo-zigbuild`` wraps cargo and links with ``zig cc``; a target such as
``x86_64-unknown-linux-gnu.2.17`` makes zig link against glibc 2.17 stubs, so
the result needs no symbol version newer than manylinux_2_17 allows, whatever
the build machine's glibc. When no ``zig`` is on PATH, cargo-zigbuild falls
back to ``python -m ziglang``, which is how the ``ziglang`` package provides it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..errors import BuildError

_GLIBC_SUFFIX = re.compile(r"^(.*-gnu(?:eabihf|eabi)?)\.(\d+(?:\.\d+)*)$")

__all__ = [
    "find_cargo_zigbuild",
    "rust_target_dir_name",
    "zig_available",
    "zig_build_command",
    "zig_cargo_env",
]


def find_cargo_zigbuild() -> Optional[Path]:
    """The cargo-zigbuild binary: next to this Python's scripts, else on PATH."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / "cargo-zigbuild"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("cargo-zigbuild")
    return Path(found) if found else None


def _zig_found() -> bool:
    return shutil.which("zig") is not None or importlib.util.find_spec("ziglang") is not None


def zig_available() -> bool:
    """Whether both cargo-zigbuild and a zig compiler (PATH or the ziglang package) are here."""
    return find_cargo_zigbuild() is not None and _zig_found()


def zig_cargo_env(target: str = "x86_64-unknown-linux-gnu.2.17") -> Dict[str, str]:
    """Environment for cargo-zigbuild: which zig to use when it is not on PATH."""
    env: Dict[str, str] = {}
    spec = importlib.util.find_spec("ziglang")
    if shutil.which("zig") is None and spec is not None and spec.origin:
        # Without zig on PATH cargo-zigbuild runs `python3 -m ziglang`, and PATH's
        # python3 may lack it: point at the package's zig binary and at this Python.
        bundled = Path(spec.origin).with_name("zig")
        if bundled.is_file():
            env["CARGO_ZIGBUILD_ZIG_PATH"] = str(bundled)
        env["CARGO_ZIGBUILD_PYTHON_PATH"] = sys.executable
    if "-linux-" in target:
        # zig cc must not see the host's pkg-config paths.
        env.setdefault("PKG_CONFIG_ALLOW_CROSS", "1")
    return env


def zig_build_command(
    base_cargo_args: List[str], glibc: str = "2.17", target: Optional[str] = None
) -> Tuple[List[str], Dict[str, str]]:
    """Turn ``cargo rustc ...`` into ``cargo-zigbuild rustc --target <triple>.<glibc> ...``.

    ``base_cargo_args`` may start with ``cargo`` or directly with the subcommand.
    An existing ``--target`` is kept and gets the glibc suffix; otherwise the
    host triple (``target`` or ``<machine>-unknown-linux-gnu``) is used.
    """
    zigbuild = find_cargo_zigbuild()
    if zigbuild is None or not _zig_found():
        raise BuildError(
            "--zig needs cargo-zigbuild and zig: install them with "
            "`pip install 'maturin-nox[zig]'` (the ziglang and cargo-zigbuild packages)."
        )
    args = list(base_cargo_args)
    if args and Path(args[0]).name in ("cargo", "cargo.exe"):
        args = args[1:]
    if not args:
        raise BuildError("zig_build_command needs a cargo subcommand such as `rustc`.")
    triple = target or f"{_machine()}-unknown-linux-gnu"
    for i, arg in enumerate(args):
        if arg == "--target" and i + 1 < len(args):
            triple = args[i + 1]
            del args[i : i + 2]
            break
        if arg.startswith("--target="):
            triple = arg.split("=", 1)[1]
            del args[i]
            break
    if "-linux-gnu" in triple and not _has_glibc_suffix(triple):
        triple = f"{triple}.{glibc}"
    command = [str(zigbuild), args[0], "--target", triple, *args[1:]]
    return command, zig_cargo_env(triple)


def rust_target_dir_name(triple: str) -> str:
    """The folder cargo writes artifacts for a zig triple into (the glibc suffix is dropped)."""
    match = _GLIBC_SUFFIX.match(triple)
    return match.group(1) if match else triple


def _has_glibc_suffix(triple: str) -> bool:
    return _GLIBC_SUFFIX.match(triple) is not None


def _machine() -> str:
    import platform

    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
