"""Rust target triples and compatibility values, as maturin reads them.

:func:`parse_triple` says what a triple such as ``aarch64-unknown-linux-musl``
means for a wheel (the architecture as platform tags spell it, the operating
system, the libc); :func:`parse_compatibility` reads a ``--compatibility``
value in every spelling maturin accepts (``2014``, ``2_28``, ``manylinux2014``,
``manylinux_2_28``, ``musllinux_1_2``, ``linux``/``off``, ``pypi``) into one
canonical name; :func:`require_std` fails before cargo when the target's
standard library is not installed. Cheap to import: no subprocess runs until
one of the checks is called.
"""

from __future__ import annotations

import functools
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from .errors import BuildError, ConfigError

__all__ = [
    "TargetTriple",
    "parse_compatibility",
    "parse_triple",
    "require_std",
    "rust_sysroot",
]

log = logging.getLogger("maturin_nox")

# The first part of a triple -> the architecture as wheel platform tags name it.
_ARCHES = {
    "x86_64": "x86_64",
    "x86_64h": "x86_64",
    "i686": "i686",
    "i586": "i686",
    "i386": "i686",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "armv7": "armv7l",
    "armv7a": "armv7l",
    "thumbv7neon": "armv7l",
    "arm": "armv6l",
    "armv6": "armv6l",
    "armv5te": "armv5tel",
    "powerpc64le": "ppc64le",
    "powerpc64": "ppc64",
    "powerpc": "ppc",
    "s390x": "s390x",
    "riscv64gc": "riscv64",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
    "mips64el": "mips64el",
    "mips64": "mips64",
    "mipsel": "mipsel",
    "mips": "mips",
    "sparc64": "sparc64",
}

# Platform-tag architecture -> the multiarch part of CPython's extension suffix on Linux
# (``.cpython-312-<this>-linux-gnu.so``).
_MULTIARCH = {
    "x86_64": "x86_64",
    "i686": "i386",
    "aarch64": "aarch64",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "powerpc64le",
    "ppc64": "powerpc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}


@dataclass(frozen=True)
class TargetTriple:
    """What a Rust target triple means for a wheel."""

    triple: str
    arch: str  # as platform tags spell it: x86_64, i686, aarch64, armv7l, ppc64le, ...
    os: str  # linux, windows, macos, or the triple's own os part
    env: str  # gnu, gnueabihf, musl, msvc, ... ("" when the triple has none)

    @property
    def libc(self) -> Optional[str]:
        """``glibc`` or ``musl`` for Linux triples, else None."""
        if self.os != "linux":
            return None
        return "musl" if self.env.startswith("musl") else "glibc"

    @property
    def is_linux(self) -> bool:
        """Whether the triple builds for Linux."""
        return self.os == "linux"

    def linux_tag(self) -> str:
        """The plain platform tag, ``linux_<arch>``."""
        return f"linux_{self.arch}"

    def ext_suffix(self, host_suffix: str) -> str:
        """A host interpreter's extension suffix rewritten for this triple.

        ``.cpython-312-x86_64-linux-gnu.so`` becomes ``.cpython-312-aarch64-linux-gnu.so``
        for ``aarch64-unknown-linux-gnu``; an abi3 or suffix without a platform part is kept.
        """
        parts = host_suffix.split("-")
        if not self.is_linux or len(parts) < 4 or not host_suffix.endswith(".so"):
            return host_suffix
        multiarch = _MULTIARCH.get(self.arch, self.arch)
        env = self.env or "gnu"
        if self.arch in ("armv7l", "armv6l") and env.startswith("musl"):
            env = "musleabihf"
        return f"{parts[0]}-{parts[1]}-{multiarch}-linux-{env}.so"


def parse_triple(triple: str) -> TargetTriple:
    """Read a target triple (``<arch>-<vendor>-<os>[-<env>]``); ConfigError if it is not one."""
    parts = triple.strip().split("-")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(
            f"--target {triple!r} is not a Rust target triple such as x86_64-unknown-linux-gnu.",
            key="target",
        )
    arch = _ARCHES.get(parts[0])
    if arch is None:
        arch = "armv7l" if parts[0].startswith("armv7") else parts[0]
    rest = parts[1:]
    if "linux" in rest:
        i = rest.index("linux")
        env = rest[i + 1] if i + 1 < len(rest) else ""
        return TargetTriple(triple, arch, "linux", env)
    if "windows" in rest:
        return TargetTriple(triple, arch, "windows", rest[-1] if rest[-1] != "windows" else "")
    if "darwin" in rest or ("apple" in rest and rest[-1] == "darwin"):
        return TargetTriple(triple, arch, "macos", "")
    return TargetTriple(triple, arch, rest[-1] if len(rest) > 1 else rest[0], "")


# maturin's short forms (src/auditwheel/platform_tag.rs): the legacy aliases by year.
_SHORT = {
    "1": "manylinux_2_5",
    "manylinux1": "manylinux_2_5",
    "2010": "manylinux_2_12",
    "manylinux2010": "manylinux_2_12",
    "2014": "manylinux_2_17",
    "manylinux2014": "manylinux_2_17",
}


def parse_compatibility(value: str, *, source: str = "--compatibility") -> str:
    """One ``--compatibility`` value as a canonical name.

    ``linux`` (also ``off``), ``pypi``, ``manylinux_X_Y`` or ``musllinux_X_Y``;
    ``2014``/``manylinux2014``, ``2010``, ``1`` and a bare ``X_Y`` are maturin's
    short forms of manylinux tags. ConfigError naming ``source`` otherwise.
    """
    key = value.strip().lower().replace("-", "_")
    if key in ("off", "linux"):
        return "linux"
    if key == "pypi":
        return "pypi"
    if key in _SHORT:
        return _SHORT[key]
    family = "manylinux"
    if key.startswith("musllinux_"):
        family, key = "musllinux", key[len("musllinux_") :]
    elif key.startswith("manylinux_"):
        key = key[len("manylinux_") :]
    numbers = key.split("_")
    # maturin reads the first two numbers and ignores the rest (manylinux_2_28_x86_64)
    if len(numbers) >= 2 and numbers[0].isdigit() and numbers[1].isdigit():
        return f"{family}_{int(numbers[0])}_{int(numbers[1])}"
    raise ConfigError(
        f"{source} {value!r} is not a compatibility value: use linux (or off), pypi, "
        "manylinux_X_Y (or 2_28, manylinux2014, 2014, 2010, 1) or musllinux_X_Y.",
        key="compatibility",
    )


def _rustc() -> str:
    from .cargo import rustc_executable  # lazily: this module is imported by light paths

    return rustc_executable()


@functools.lru_cache(maxsize=None)
def rust_sysroot() -> Optional[Path]:
    """``rustc --print sysroot``, or None when rustc cannot say."""
    try:
        out = subprocess.run(
            [_rustc(), "--print", "sysroot"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return Path(out) if out else None


def require_std(triple: str, unstable_flags: Sequence[str] = ()) -> None:
    """Fail before cargo when the standard library for ``triple`` is not installed.

    A custom target (a ``.json`` spec) or ``-Z build-std`` builds its own std: not checked.
    """
    if triple.endswith(".json") or any(f.startswith("build-std") for f in unstable_flags):
        return
    sysroot = rust_sysroot()
    if sysroot is None:
        log.debug("`rustc --print sysroot` failed; not checking the std of %s", triple)
        return
    if (sysroot / "lib" / "rustlib" / triple / "lib").is_dir():
        return
    raise BuildError(
        f"The Rust standard library for {triple} is not installed (not in {sysroot}); "
        f"run `rustup target add {triple}`."
    )
