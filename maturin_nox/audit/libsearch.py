"""Where the dynamic loader would find a library: RPATH/RUNPATH, LD_LIBRARY_PATH, ld.so.conf.

Follows ld.so's order: the object's DT_RPATH (only when it has no DT_RUNPATH)
and the loading executable's, ``LD_LIBRARY_PATH``, DT_RUNPATH, then the
configured folders (``/etc/ld.so.conf`` and its includes; musl's
``/etc/ld-musl-<arch>.path``) and the trusted default folders. A candidate
counts only if it is an ELF of the same architecture and class.
"""

from __future__ import annotations

import functools
import glob
import os
import posixpath
import re
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from .elf import elf_arch

__all__ = ["LibrarySearch", "expand_origin", "parse_ld_so_conf", "system_library_dirs"]

_ORIGIN_RE = re.compile(r"\$(ORIGIN|\{ORIGIN\})")
_DEFAULT_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")


def expand_origin(entry: str, origin: str) -> str:
    """An RPATH/RUNPATH entry with ``$ORIGIN`` replaced by the object's folder, normalized."""
    return posixpath.normpath(_ORIGIN_RE.sub(lambda _m: origin, entry))


def parse_ld_so_conf(path: str = "/etc/ld.so.conf", _seen: Optional[set[str]] = None) -> List[str]:
    """The folders an ld.so.conf lists, following ``include`` globs (relative to the file)."""
    seen = _seen if _seen is not None else set()
    if path in seen:
        return []
    seen.add(path)
    folders: List[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include"):
            pattern = line[len("include") :].strip()
            if not pattern.startswith("/"):
                pattern = os.path.join(os.path.dirname(path), pattern)
            for included in sorted(glob.glob(pattern)):
                folders += parse_ld_so_conf(included, seen)
        elif not line.startswith("hwcap"):
            folders.append(posixpath.normpath(line))
    return folders


@functools.lru_cache(maxsize=None)
def system_library_dirs(libc: str = "glibc") -> Tuple[str, ...]:
    """The configured and default folders (without LD_LIBRARY_PATH), existing ones only."""
    if libc == "musl":
        configured: List[str] = []
        for path_file in sorted(glob.glob("/etc/ld-musl-*.path")):
            with open(path_file, encoding="utf-8") as f:
                configured += [p.strip() for p in re.split(r"[:\n]", f.read()) if p.strip()]
        folders = configured or ["/lib", "/usr/local/lib", "/usr/lib"]
    else:
        folders = [*parse_ld_so_conf(), *_DEFAULT_DIRS]
    return tuple(_dedupe(f for f in folders if os.path.isdir(f)))


def _dedupe(items: Iterable[str]) -> List[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]


class LibrarySearch:
    """Finds libraries on this machine the way the loader would, with caching."""

    def __init__(self, libc: str, arch: Optional[str], extra_dirs: Sequence[Path] = ()) -> None:
        self.libc = libc
        self.arch = arch
        env = os.environ.get("LD_LIBRARY_PATH", "")
        # Extra folders (cargo's link search paths) act like LD_LIBRARY_PATH would at run time.
        self.env_dirs = tuple([str(p) for p in extra_dirs] + [p for p in env.split(":") if p])
        self.system_dirs = system_library_dirs(libc)
        self._cache: dict[Tuple[str, Tuple[str, ...]], Optional[Path]] = {}

    def search_dirs(
        self, rpath: Sequence[str], runpath: Sequence[str], inherited_rpath: Sequence[str] = ()
    ) -> Tuple[str, ...]:
        """The folders searched for one object's dependencies, in loader order."""
        own_rpath = () if runpath else tuple(rpath)
        return tuple(
            _dedupe([*own_rpath, *inherited_rpath, *self.env_dirs, *runpath, *self.system_dirs])
        )

    def find(self, soname: str, dirs: Sequence[str]) -> Optional[Path]:
        """The resolved real path of ``soname`` in ``dirs``, if a compatible one is there."""
        if "/" in soname:  # a NEEDED path is used as is
            candidate = Path(soname)
            return candidate.resolve() if self._compatible(candidate) else None
        key = (soname, tuple(dirs))
        if key not in self._cache:
            self._cache[key] = None
            for folder in dirs:
                candidate = Path(folder, soname)
                if self._compatible(candidate):
                    self._cache[key] = candidate.resolve()
                    break
        return self._cache[key]

    def _compatible(self, path: Path) -> bool:
        try:
            if not path.is_file():
                return False
            arch, _ = elf_arch(path)
        except OSError:
            return False
        return arch is not None and (self.arch is None or arch == self.arch)
