"""The three glob dialects a project's files are matched with, each as its owner defines it.

- gitignore style (``tool.maturin`` ``include``/``exclude`` and ``.gitignore``):
  :func:`glob_match`; ``*`` stays in one folder, ``**`` spans folders, and a
  pattern without a slash matches a name at any depth.
- PEP 639 ``license-files``: :func:`pep639_glob_problem` checks the restricted
  syntax, :func:`pep639_files` finds the files (``**`` only as a whole segment).
- Cargo workspace ``members``: :func:`member_glob_match`, segment by segment
  with fnmatch rules, as cargo's glob crate matches them.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from pathlib import Path
from typing import List, Optional, Pattern, Tuple

__all__ = ["glob_match", "is_glob", "member_glob_match", "pep639_files", "pep639_glob_problem"]


# --- gitignore style --------------------------------------------------------------------


def _glob_regex(pattern: str) -> str:
    """A regex for a gitignore-style glob: ``*`` and ``?`` stay within a folder, ``**`` spans them."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out += "/.*"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            close = pattern.index("]", i + 2)
            body = pattern[i + 1 : close]
            if body.startswith("!"):
                body = "^" + body[1:]
            out += "[" + body.replace("\\", "\\\\") + "]"
            i = close + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
        else:
            out += re.escape(pattern[i])
            i += 1
    return out


def glob_match(relpath: str, pattern: str) -> bool:
    """Whether a relative path matches a gitignore-style glob (no slash: at any depth)."""
    return _compiled(pattern).fullmatch(relpath) is not None


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Pattern[str]:
    body = pattern.rstrip("/") if pattern.rstrip("/") else pattern
    if "/" in body:
        body = body.lstrip("/")  # a slash anchors the glob at the base folder
    else:
        body = "**/" + body  # no slash: the name may sit in any folder
    return re.compile(_glob_regex(body))


# --- PEP 639 license-files --------------------------------------------------------------


def pep639_glob_problem(pattern: str) -> Optional[str]:
    """Why a license-files glob breaks PEP 639's restricted syntax, or None when it is fine."""
    at_segment_start = True
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            run = len(pattern[i:]) - len(pattern[i:].lstrip("*"))
            if run >= 3 or (run == 2 and i + 2 < len(pattern) and pattern[i + 2] != "/"):
                return f"glob {pattern!r} has too many stars at position {i}"
            i += run
            at_segment_start = False
            continue
        if c.isalnum() or c in "_-?":
            at_segment_start = False
        elif c == ".":
            if at_segment_start and pattern[i + 1 : i + 2] == ".":
                return f"glob {pattern!r} must not use the parent directory '..'"
            at_segment_start = False
        elif c == "/":
            if i == 0:
                return f"glob {pattern!r} must be relative to pyproject.toml"
            at_segment_start = True
        elif c == "[":
            end = pattern.find("]", i)
            inner = pattern[i + 1 : end] if end != -1 else pattern[i + 1 :]
            bad = [ch for ch in inner if not (ch.isalnum() or ch in "_-.")]
            if end == -1 or bad or not inner:
                return f"glob {pattern!r} has an invalid character range at position {i}"
            i = end
            at_segment_start = False
        elif c == "\\":
            return f"glob {pattern!r} must use forward slashes"
        else:
            return f"glob {pattern!r} has the invalid character {c!r} at position {i}"
        i += 1
    return None


def _segment_regex(segment: str) -> re.Pattern[str]:
    """A regex for one path segment of a PEP 639 glob (`*` does not cross `/`)."""
    out = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = segment.index("]", i)
            # PEP 639: the characters in brackets match verbatim, `-` too (no ranges)
            out.append("[" + "".join(re.escape(ch) for ch in segment[i + 1 : end]) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def pep639_files(root: Path, pattern: str) -> List[str]:
    """Files under root matching a PEP 639 glob, as sorted relative POSIX paths."""
    current: List[Tuple[str, ...]] = [()]
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        following: List[Tuple[str, ...]] = []
        for parts in current:
            base = root.joinpath(*parts)
            if segment == "**":
                following.extend(_all_below(base, parts, include_files=last))
                continue
            if not base.is_dir():
                continue
            regex = _segment_regex(segment)
            for entry in sorted(base.iterdir()):
                if regex.match(entry.name):
                    following.append((*parts, entry.name))
        current = list(dict.fromkeys(following))
    files = [parts for parts in current if parts and root.joinpath(*parts).is_file()]
    return ["/".join(parts) for parts in sorted(files)]


def _all_below(base: Path, parts: Tuple[str, ...], include_files: bool) -> List[Tuple[str, ...]]:
    """`**`: the folder itself and every folder (and, at the end, file) below it."""
    found = [parts]
    if not base.is_dir():
        return found
    for entry in sorted(base.iterdir()):
        child = (*parts, entry.name)
        if entry.is_dir() and not entry.is_symlink():
            found.extend(_all_below(entry, child, include_files))
        elif include_files:
            found.append(child)
    return found


# --- Cargo workspace members ------------------------------------------------------------


def is_glob(member: str) -> bool:
    """Whether a workspace member entry is a glob rather than a path."""
    return any(ch in member for ch in "*?[]")


def member_glob_match(pattern: str, path: str) -> bool:
    """Whether a member folder matches a Cargo workspace glob (each segment alone, as cargo does)."""
    parts, pats = path.split("/"), pattern.rstrip("/").split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pats))
