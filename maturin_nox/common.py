"""Small names shared across the engine: what a file in an archive comes from, path arguments,
and the environment variable that shares one cargo target directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

__all__ = ["TARGET_DIR_ENV", "Source", "StrPath", "cache_root"]

# A file of a wheel or sdist: a file on disk, or bytes made in memory.
Source = Union[Path, bytes]

# What functions accept where a path is meant.
StrPath = Union[str, "os.PathLike[str]"]

# Read by the nox sessions and the tox plugin (never by the engine itself): one cargo
# target directory for every project and environment, as CI jobs and test suites want.
TARGET_DIR_ENV = "MATURIN_NOX_TARGET_DIR"


def cache_root() -> Path:
    """maturin-nox's cache folder: $MATURIN_NOX_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /maturin-nox."""
    explicit = os.environ.get("MATURIN_NOX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "maturin-nox"
