"""Editing a TOML file in place: comments and layout survive, as maturin's ``toml_edit`` keeps them.

maturin rewrites an sdist's manifests with ``toml_edit``, which keeps every byte it was
not asked to change. :class:`TomlEdit` does the same for the few edits an sdist needs
(set a key, remove a key, a table or one ``[[array]]`` element, add a table), with
toml_edit's conventions for what an edit touches:

* the text of a document is a run of *statements* (``key = value`` lines and table
  headers), each owning the blank lines and comments above it;
* replacing a value keeps its key, the comments above it and the spacing before ``=``;
  the value is written fresh (`` = value``, no trailing comment);
* a new key goes after the last key of its table; a new table goes after the last table
  inside its parent (at the end of the document for a new top-level table), with one
  blank line above its header; tables are created explicitly at every missing level
  (so a new ``tool.maturin`` in a file without ``[tool]`` brings a ``[tool]`` header);
* removing a key, table or array element removes its statements with the comments
  above them.

Every edit is also applied to the parsed data, which is the truth: a shape the text
editor does not handle (a table written inline, a key spread over dotted keys in
another table, ...) switches the document to writing the parsed data out plainly, and
so does any disagreement between the edited text and the data (checked by parsing the
result). The text is never wrong, only sometimes re-formatted.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..toml import dumps_toml, loads_toml, toml_key
from ..toml import toml_value as _one_line

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older interpreters only
    import tomli as tomllib

__all__ = ["TomlEdit", "toml_value"]

log = logging.getLogger("maturin_nox")

Key = Union[str, int]
Path_ = Tuple[Key, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"


class _Unsupported(Exception):
    """A shape the text editor leaves to the plain writer."""


@dataclass(frozen=True)
class _Statement:
    """One statement: a table header or a ``key = value`` line, with the trivia above it."""

    start: int  # where its leading comments and blank lines begin
    line: int  # where the statement itself (indentation included) begins
    end: int  # just past its newline (or the end of the text)
    header: bool
    array: bool  # a ``[[header]]``
    keys: Tuple[str, ...]  # the header's keys, or the key's (dotted) parts
    path: Path_  # the full path: header path (with array indices) + keys for a key line
    table: Path_  # the table the statement belongs to (itself, for a header)
    eq: int  # for key lines: the offset just past "="
    newline: bool  # whether it ends with a newline


def toml_value(value: Any) -> str:
    """A value as toml_edit writes a new one: basic strings, ``[a, b]``, ``{ k = v }``."""
    return _one_line(value, literal_quotes=True)


class TomlEdit:
    """A TOML document being edited: ``data`` is what it means, ``text()`` how it reads."""

    def __init__(self, text: str, path: Path) -> None:
        self.path = path
        self.original = text
        self.data: Dict[str, Any] = loads_toml(text, path)
        self._text: Optional[str] = text
        try:
            self._statements = _parse(text)
        except (_Unsupported, tomllib.TOMLDecodeError, ValueError):
            self._plain("it could not be split into statements")

    @classmethod
    def read(cls, path: Path) -> TomlEdit:
        return cls(path.read_text(encoding="utf-8"), path)

    # --- reading ---------------------------------------------------------------------

    def get(self, *keys: Key) -> Any:
        """The value at ``keys`` in the parsed data (None when absent)."""
        node: Any = self.data
        for key in keys:
            if isinstance(key, int):
                if not isinstance(node, list) or key >= len(node):
                    return None
            elif not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def raw_value(self, *keys: str) -> Optional[str]:
        """The value text at ``keys`` as written, when it is one ``key = value`` line."""
        if self._text is None:
            return None
        hits = [s for s in self._statements if _under(s.path, keys)]
        if len(hits) != 1 or hits[0].header or hits[0].path != keys:
            return None
        return _value_text(self._text, hits[0])

    def text(self) -> str:
        """The document: the edited text, or the parsed data written out plainly."""
        if self._text is not None:
            try:
                same = tomllib.loads(self._text) == self.data
            except tomllib.TOMLDecodeError:
                same = False
            if same:
                return self._text
            self._plain("the edited text does not say what the edits mean")
        return dumps_toml(self.data)

    def changed(self) -> bool:
        """Whether the document reads differently from the file."""
        return self.text() != self.original

    @property
    def kept_layout(self) -> bool:
        """Whether the text is still edited in place (not written out plainly)."""
        self.text()
        return self._text is not None

    # --- editing ---------------------------------------------------------------------

    def set(
        self,
        keys: Sequence[Key],
        value: Any,
        *,
        raw: Optional[str] = None,
        table: bool = False,
        fresh_key: bool = False,
    ) -> None:
        """Set ``keys`` to ``value``.

        A table value is written inline unless ``table`` (then as ``[sections]``); ``raw`` is
        the value's (or the sections') text when it is copied as written elsewhere. An existing
        key keeps the comments above it, as toml_edit's ``table[key] = value`` does; with
        ``fresh_key`` it is written anew without them, as toml_edit's ``Table::insert`` does.
        """
        path = tuple(keys)
        parent = _walk(self.data, path[:-1], create=True)
        if not isinstance(parent, dict):
            raise TypeError(f"{self.path}: {_dotted(path[:-1])} is not a table")
        parent[path[-1]] = copy.deepcopy(value)
        if self._text is not None:
            self._edit(lambda: self._set_text(path, value, raw, table, fresh_key))

    def remove(self, keys: Sequence[Key]) -> None:
        """Remove the key, table or array element at ``keys`` (nothing when absent)."""
        path = tuple(keys)
        parent = _walk(self.data, path[:-1], create=False)
        last = path[-1]
        if isinstance(parent, dict) and isinstance(last, str) and last in parent:
            del parent[last]
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            del parent[last]
        else:
            return
        if self._text is not None:
            self._edit(lambda: self._remove_text(path))

    # --- the text side ---------------------------------------------------------------

    def _plain(self, why: str) -> None:
        if self._text is not None:
            log.debug(f"{self.path}: written out plainly, as {why}.")
        self._text = None
        self._statements = []

    def _edit(self, action: Any) -> None:
        try:
            action()
            assert self._text is not None
            self._statements = _parse(self._text)
        except (_Unsupported, tomllib.TOMLDecodeError, ValueError) as exc:
            self._plain(str(exc) or "an edit it cannot make in place")

    def _splice(self, start: int, end: int, new: str) -> None:
        assert self._text is not None
        self._text = self._text[:start] + new + self._text[end:]

    def _set_text(
        self, path: Path_, value: Any, raw: Optional[str], table: bool, fresh_key: bool
    ) -> None:
        assert self._text is not None
        hits = [s for s in self._statements if _under(s.path, path)]
        if table:
            self._set_table_text(path, value, hits, raw)
            return
        rendered = raw if raw is not None else toml_value(value)
        if hits:
            if any(s.header for s in hits):
                raise _Unsupported(f"{_dotted(path)} is a table being replaced by a value")
            first = hits[0]
            key = ".".join(toml_key(str(k)) for k in path[len(first.table) :])
            head = self._text[first.line : first.eq]
            if fresh_key:
                new, start = f"{key} = {rendered}\n", first.start
            else:
                # keep the indentation and the spacing before "=", as toml_edit keeps the key
                indent = head[: len(head) - len(head.lstrip(_WS))]
                before_eq = head[: head.rindex("=")]
                spacing = before_eq[len(before_eq.rstrip(_WS)) :]
                new, start = f"{indent}{key}{spacing}= {rendered}\n", first.line
            for extra in reversed(hits[1:]):
                self._splice(extra.start, extra.end, "")
            self._splice(start, first.end, new if first.newline else new[:-1])
            return
        owner = path[:-1]
        line = f"{toml_key(str(path[-1]))} = {rendered}\n"
        at = self._table_end(owner)
        if at is None:
            self._create_tables(owner, line)
        else:
            self._insert(at, line)

    def _set_table_text(
        self, path: Path_, value: Mapping[str, Any], hits: List[_Statement], raw: Optional[str]
    ) -> None:
        """A table value: its old statements go, its sections are written where they stood."""
        assert self._text is not None
        if any(s.table != path[: len(s.table)] for s in hits if not s.header):
            raise _Unsupported(f"{_dotted(path)} is spread over other tables")
        where = hits[0].start if hits else self._document_end()
        for s in reversed(hits):
            self._splice(s.start, s.end, "")
        if raw is None:
            nested: Dict[str, Any] = {}
            node = nested
            for key in path[:-1]:
                node = node.setdefault(str(key), {})
            node[str(path[-1])] = value
            raw = ("\n" if where > 0 else "") + dumps_toml(nested)
        self._insert(where, raw)

    def tables_text(self, keys: Sequence[str], renamed: Sequence[str]) -> Optional[str]:
        """The ``[sections]`` of the table at ``keys`` as written, their headers renamed to
        ``renamed`` (``[workspace.lints.rust]`` copied as ``[lints.rust]``); None when the table
        is not written as sections of its own."""
        if self._text is None:
            return None
        prefix, new = tuple(keys), tuple(renamed)
        hits = [s for s in self._statements if _under(s.path, prefix)]
        if not hits or not hits[0].header or any(s.array for s in hits):
            return None
        if any(not s.header and not _under(s.table, prefix) for s in hits):
            return None
        out = []
        for s in hits:
            if s.header:
                text = self._text[s.start : s.end]
                head = self._text[s.line : s.end]
                close = head.index("]") + 1
                indent = head[: len(head) - len(head.lstrip(_WS))]
                renamed_keys = new + tuple(str(k) for k in s.path[len(prefix) :])
                out.append(
                    text[: s.line - s.start] + f"{indent}[{_dotted(renamed_keys)}]" + head[close:]
                )
            else:
                out.append(self._text[s.start : s.end])
        block = "".join(out)
        return block if block.endswith("\n") else block + "\n"

    def _remove_text(self, path: Path_) -> None:
        for s in reversed([s for s in self._statements if _under(s.path, path)]):
            self._splice(s.start, s.end, "")

    def _insert(self, at: int, text: str) -> None:
        assert self._text is not None
        if at > 0 and not self._text[:at].endswith("\n"):
            text = "\n" + text
        self._splice(at, at, text)

    def _table_end(self, table: Path_) -> Optional[int]:
        """Where a new key of ``table`` goes: after its last key (None: no such table here)."""
        assert self._text is not None
        if not table:
            roots = [s for s in self._statements if not s.table and not s.header]
            return roots[-1].end if roots else 0
        own = [s for s in self._statements if s.header and s.path == table]
        if own:
            last = own[-1]
            keys = [s for s in self._statements if not s.header and s.table == table]
            return max([last.end, *(s.end for s in keys)])
        if any(_under(s.path, table) for s in self._statements):
            raise _Unsupported(f"[{_dotted(table)}] has no header of its own")
        return None

    def _create_tables(self, table: Path_, first_line: str) -> None:
        """New explicit tables for every missing level of ``table``, then the key."""
        assert self._text is not None
        existing = 0
        for depth in range(1, len(table)):
            if any(_under(s.path, table[:depth]) for s in self._statements):
                existing = depth
        parent = table[:existing]
        inside = [s for s in self._statements if s.header and _under(s.path, parent)]
        if parent and not inside:
            raise _Unsupported(f"[{_dotted(parent)}] is not written as tables")
        at = max(s.end for s in self._last_block(inside)) if parent else self._document_end()
        block = "".join(
            f"\n[{_dotted(table[:depth])}]\n" for depth in range(existing + 1, len(table) + 1)
        )
        if at == 0 and not self._text[:at].strip():
            block = block[1:]
        self._insert(at, block + first_line)

    def _last_block(self, headers: List[_Statement]) -> List[_Statement]:
        """The statements of the last of ``headers``' tables (its header and keys)."""
        last = headers[-1]
        return [last, *(s for s in self._statements if not s.header and s.table == last.path)]

    def _document_end(self) -> int:
        """The end of the last statement: trailing comments stay last."""
        return self._statements[-1].end if self._statements else 0


def _walk(data: Any, path: Path_, *, create: bool) -> Any:
    node = data
    for key in path:
        if isinstance(node, dict) and isinstance(key, str):
            if key not in node:
                if not create:
                    return None
                node[key] = {}
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return None
    return node


def _under(path: Path_, prefix: Sequence[Key]) -> bool:
    return tuple(path[: len(prefix)]) == tuple(prefix)


def _dotted(path: Sequence[Key]) -> str:
    return ".".join(toml_key(str(k)) for k in path)


def _value_text(text: str, s: _Statement) -> str:
    body = text[s.eq : s.end].lstrip(_WS)
    return _scan_value(body, 0)[0]


# --- splitting a document into statements -------------------------------------------


def _parse(text: str) -> List[_Statement]:
    """The statements of a document, in order; they cover the text up to its trailing trivia."""
    statements: List[_Statement] = []
    arrays: Dict[Tuple[str, ...], int] = {}  # [[header]] keys -> elements seen
    table: Path_ = ()
    pos = 0
    n = len(text)
    while True:
        start = pos
        pos = _skip_trivia(text, pos)
        if pos >= n:
            break
        line = text.rfind("\n", 0, pos) + 1 if pos > start else pos
        line = max(line, start)
        if text[pos] == "[":
            array = text.startswith("[[", pos)
            keys, after = _scan_key(text, pos + (2 if array else 1), "]")
            close = "]]" if array else "]"
            if not text.startswith(close, after):
                raise _Unsupported("a table header is not closed")
            end, newline = _line_end(text, after + len(close))
            path = _table_path(keys, array, arrays)
            table = path
            statements.append(
                _Statement(start, line, end, True, array, keys, path, path, -1, newline)
            )
            pos = end
            continue
        keys, after = _scan_key(text, pos, "=")
        if not text.startswith("=", after):
            raise _Unsupported("a line is neither a header nor a key")
        eq = after + 1
        vpos = eq
        while vpos < n and text[vpos] in _WS:
            vpos += 1
        _, vend = _scan_value(text, vpos)
        end, newline = _line_end(text, vend)
        path = table + keys
        statements.append(
            _Statement(start, line, end, False, False, keys, path, table, eq, newline)
        )
        pos = end
    return statements


def _table_path(keys: Tuple[str, ...], array: bool, arrays: Dict[Tuple[str, ...], int]) -> Path_:
    """A header's path, with the index of the current element of every array of tables."""
    path: List[Key] = []
    for depth in range(1, len(keys) + 1):
        path.append(keys[depth - 1])
        prefix = keys[:depth]
        last = depth == len(keys)
        if last and array:
            arrays[prefix] = arrays.get(prefix, 0) + 1
            for k in [k for k in arrays if len(k) > depth and k[:depth] == prefix]:
                del arrays[k]  # a new element starts its own nested arrays
        if prefix in arrays:
            path.append(arrays[prefix] - 1)
    return tuple(path)


def _skip_trivia(text: str, pos: int) -> int:
    n = len(text)
    while pos < n:
        c = text[pos]
        if c in " \t\r\n":
            pos += 1
        elif c == "#":
            nl = text.find("\n", pos)
            pos = n if nl < 0 else nl + 1
        else:
            break
    return pos


def _line_end(text: str, pos: int) -> Tuple[int, bool]:
    """Past the trailing whitespace, comment and newline of a statement."""
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    if pos < n and text[pos] == "#":
        nl = text.find("\n", pos)
        pos = n if nl < 0 else nl
    if pos < n and text[pos] == "\r":
        pos += 1
    if pos < n and text[pos] == "\n":
        return pos + 1, True
    if pos >= n:
        return n, False
    raise _Unsupported("something follows a value on its line")


def _scan_key(text: str, pos: int, stop: str) -> Tuple[Tuple[str, ...], int]:
    """The parts of a (dotted) key and the offset of the ``stop`` character after it."""
    parts: List[str] = []
    n = len(text)
    while True:
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos >= n:
            raise _Unsupported("a key runs to the end of the file")
        c = text[pos]
        if c in "\"'":
            end = _string_end(text, pos, c, multiline=False)
            parts.append(_decode_key(text[pos:end]))
            pos = end
        else:
            match = _BARE.match(text, pos)
            if not match:
                raise _Unsupported("a key is not a bare or quoted key")
            parts.append(match.group())
            pos = match.end()
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos < n and text[pos] == ".":
            pos += 1
            continue
        if pos < n and text[pos] == stop:
            return tuple(parts), pos
        raise _Unsupported("a key is followed by something unexpected")


def _decode_key(quoted: str) -> str:
    return str(next(iter(tomllib.loads(f"{quoted} = 0"))))


def _string_end(text: str, pos: int, quote: str, *, multiline: bool) -> int:
    """Just past the string that starts at ``pos``."""
    n = len(text)
    if multiline:
        close = quote * 3
        i = pos + 3
        while True:
            j = text.find(close, i)
            if j < 0:
                raise _Unsupported("a multi-line string is not closed")
            if quote == '"' and _escaped(text, j):
                i = j + 1
                continue
            end = j + 3
            while end < n and text[end] == quote and end - j < 5:
                end += 1
            return end
    i = pos + 1
    while i < n:
        c = text[i]
        if c == "\n":
            break
        if quote == '"' and c == "\\":
            i += 2
            continue
        if c == quote:
            return i + 1
        i += 1
    raise _Unsupported("a string is not closed on its line")


def _escaped(text: str, pos: int) -> bool:
    backslashes = 0
    while pos - backslashes - 1 >= 0 and text[pos - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _scan_value(text: str, pos: int) -> Tuple[str, int]:
    """The text of the value at ``pos`` and the offset just past it."""
    n = len(text)
    if pos >= n:
        raise _Unsupported("a key has no value")
    c = text[pos]
    if c in "\"'":
        multiline = text.startswith(c * 3, pos)
        end = _string_end(text, pos, c, multiline=multiline)
    elif c in "[{":
        end = _bracket_end(text, pos)
    else:
        end = pos
        while end < n and text[end] not in "#\r\n":
            end += 1
        while end > pos and text[end - 1] in _WS:
            end -= 1
        if end == pos:
            raise _Unsupported("a key has no value")
    return text[pos:end], end


def _bracket_end(text: str, pos: int) -> int:
    """Just past the array or inline table that opens at ``pos``."""
    depth = 0
    i = pos
    n = len(text)
    while i < n:
        c = text[i]
        if c in "[{":
            depth += 1
            i += 1
        elif c in "]}":
            depth -= 1
            i += 1
            if depth == 0:
                return i
        elif c in "\"'":
            i = _string_end(text, i, c, multiline=text.startswith(c * 3, i))
        elif c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
        else:
            i += 1
    raise _Unsupported("an array or inline table is not closed")
