"""Reading TOML files with errors that name the file and the position."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict

from .errors import ProjectError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older interpreters only
    import tomli as tomllib

__all__ = ["load_toml", "loads_toml"]


def loads_toml(text: str, path: Path) -> Dict[str, Any]:
    """Parse TOML text; a syntax error names ``path`` and the line."""
    try:
        data: Dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path} is not valid TOML: {exc}.", path) from None


def load_toml(path: Path) -> Dict[str, Any]:
    """Read and parse a TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path} does not exist.", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"Cannot read {path}: {exc}.", path) from None
    return loads_toml(text, path)
