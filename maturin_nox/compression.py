"""How wheel members are compressed: maturin's ``--compression-method``/``--compression-level``.

:class:`Compression` is the resolved setting the wheel writer reads;
:func:`resolve_compression` makes it from the flags. Without a method flag a
dev-profile build, a develop install and an editable wheel are *stored*
(uncompressed): the 20 MB of a debug build's wheel take 0.24 s to deflate at
level 1 and 0.74 s at level 6, 0.02 s to store (benchmarks/bench_compress.py),
and a wheel that is installed on the same machine gains nothing from being small. Release builds, publish and the PEP
517 backend's release builds use maturin's default, deflated at level 6.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

from .errors import ConfigError

__all__ = ["FAST", "METHODS", "RELEASE", "Compression", "resolve_compression"]

# method -> (lowest level, highest level, default level), as maturin's compression.rs has them;
# bzip2 starts at 1 here because Python's bz2 module has no level 0.
METHODS = {
    "deflated": (0, 9, 6),
    "stored": (0, 0, 0),
    "bzip2": (1, 9, 6),
    "zstd": (-7, 22, 3),
}


@dataclass(frozen=True)
class Compression:
    """A wheel's compression: method, level and whether every member gets zip64 records."""

    method: str = "deflated"
    level: int = 6
    large_file: bool = False

    @property
    def zip_method(self) -> int:
        """The zipfile constant of the method."""
        import zipfile  # here, not at import: the command line's parser imports this module

        if self.method == "stored":
            return zipfile.ZIP_STORED
        if self.method == "bzip2":
            return zipfile.ZIP_BZIP2
        if self.method == "zstd":
            return int(getattr(zipfile, "ZIP_ZSTANDARD"))  # noqa: B009  (Python 3.14+)
        return zipfile.ZIP_DEFLATED

    @property
    def zip_level(self) -> Optional[int]:
        """The level to hand zipfile (None for stored, which has none)."""
        return None if self.method == "stored" else self.level

    def describe(self) -> str:
        """``deflated level 6`` (for digests and logs)."""
        extra = ", zip64" if self.large_file else ""
        return f"{self.method} level {self.level}{extra}"


RELEASE = Compression("deflated", 6)
FAST = Compression("stored", 0)


def resolve_compression(
    method: Optional[str], level: Optional[int], large_file: bool, *, fast: bool
) -> Compression:
    """The compression the flags ask for; ``fast`` picks the default when no method is named.

    A level without a method is a level of maturin's default method, deflated.
    """
    if method is None:
        method = "deflated" if level is not None or not fast else "stored"
    if method not in METHODS:
        raise ConfigError(
            f"--compression-method {method!r} is not a method: use one of {', '.join(METHODS)}.",
            key="compression-method",
        )
    low, high, default = METHODS[method]
    if level is None:
        level = default
    if not low <= level <= high:
        raise ConfigError(
            f"--compression-level {level} is not a level of {method}: use {low} to {high}.",
            key="compression-level",
        )
    if method == "zstd" and sys.version_info < (3, 14):
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        raise ConfigError(
            "--compression-method zstd needs maturin-nox to run on Python 3.14 or newer "
            f"(zipfile writes zstd from 3.14; this is Python {version}).",
            key="compression-method",
        )
    return Compression(method, level, large_file)
