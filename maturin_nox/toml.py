"""Reading TOML files with errors that name the file and the position."""

from __future__ import annotations

import datetime
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

from .errors import ProjectError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older interpreters only
    import tomli as tomllib

__all__ = ["dumps_toml", "load_toml", "loads_toml", "toml_key", "toml_value"]


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


# --- writing (comments and layout of a parsed document are not kept) ---------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SECTION_PARENTS = ("workspace", "tool", "target", "package")


def toml_key(key: str) -> str:
    """A key as TOML spells it: bare when it can be, else a basic string."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any, *, literal_quotes: bool = False) -> str:
    """A value on one line: basic strings, ``[a, b]``, ``{ k = v }``.

    ``literal_quotes`` writes a one-line string holding ``"`` or ``\\`` (and no ``'``) as a
    literal string, as toml_edit does.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # inf, -inf and nan are spelled as in TOML
    if isinstance(value, str):
        quoted = '"' in value or "\\" in value
        if literal_quotes and quoted and "'" not in value and "\n" not in value:
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v, literal_quotes=literal_quotes) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ", ".join(
            f"{toml_key(k)} = {toml_value(v, literal_quotes=literal_quotes)}"
            for k, v in value.items()
        )
        return "{ " + inner + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _nested(table: Mapping[str, Any]) -> bool:
    return any(isinstance(v, dict) or _is_table_array(v) for v in table.values())


def _is_section(value: Any, path: Tuple[str, ...]) -> bool:
    if _is_table_array(value):
        # [[bin]]-style at the top; inline arrays of flat tables elsewhere
        return not path or any(_nested(v) for v in value)
    if not isinstance(value, dict):
        return False
    nested = _nested(value)
    return not path or nested or (len(path) == 1 and path[0] in _SECTION_PARENTS)


def _emit(table: Mapping[str, Any], path: Tuple[str, ...], out: List[str], header: str) -> None:
    plain = [(k, v) for k, v in table.items() if not _is_section(v, path)]
    sections = [(k, v) for k, v in table.items() if _is_section(v, path)]
    if header and (plain or not sections or header.startswith("[[")):
        out += ["", header]
    out += [f"{toml_key(k)} = {toml_value(v)}" for k, v in plain]
    for key, value in sections:
        sub = (*path, key)
        name = ".".join(toml_key(p) for p in sub)
        if isinstance(value, list):
            for item in value:
                _emit(item, sub, out, f"[[{name}]]")
        else:
            _emit(value, sub, out, f"[{name}]")


def dumps_toml(doc: Mapping[str, Any]) -> str:
    """TOML text for a parsed document (comments and layout are not kept)."""
    out: List[str] = []
    _emit(doc, (), out, "")
    return "\n".join(out).strip("\n") + "\n"
