"""Small names shared across the engine: what a file in an archive comes from, path arguments,
and the environment variable that shares one cargo target directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

__all__ = ["TARGET_DIR_ENV", "Source", "StrPath"]

# A file of a wheel or sdist: a file on disk, or bytes made in memory.
Source = Union[Path, bytes]

# What functions accept where a path is meant.
StrPath = Union[str, "os.PathLike[str]"]

# Read by the nox sessions and the tox plugin (never by the engine itself): one cargo
# target directory for every project and environment, as CI jobs and test suites want.
TARGET_DIR_ENV = "MATURIN_NOX_TARGET_DIR"
