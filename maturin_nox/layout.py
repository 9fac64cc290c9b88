"""What goes into a wheel besides the metadata: Python sources, the compiled
module at its dotted path, stubs, data folders and ``include`` files.

Everything here returns ``{archive name: source}`` mappings; writing them is
the wheel module's job.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import os
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Union

from .config import GlobPattern
from .errors import ConfigError
from .project import Project

__all__ = [
    "Source",
    "data_files",
    "extension_arcname",
    "git_ignored",
    "include_files",
    "is_excluded",
    "pure_init",
    "python_files",
    "stub_files",
]

log = logging.getLogger("maturin_nox")

Source = Union[Path, bytes]

# Files that are build output, never source: caches and native modules left in
# the source tree by earlier `develop` runs.
_NEVER = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


def extension_arcname(project: Project, ext_suffix: str) -> str:
    """Where the compiled module goes: ``pkg/_native.<suffix>`` or ``mod/mod.<suffix>``."""
    parts = project.module_name.split(".")
    if project.mixed:
        return "/".join(parts) + ext_suffix
    if len(parts) == 1:
        return f"{parts[0]}/{parts[0]}{ext_suffix}"
    return "/".join(parts) + ext_suffix


def pure_init(module: str) -> bytes:
    """The ``__init__.py`` maturin writes for a pure Rust module."""
    return (
        f"from .{module} import *\n\n"
        f"__doc__ = {module}.__doc__\n"
        f'if hasattr({module}, "__all__"):\n'
        f"    __all__ = {module}.__all__"
    ).encode()


def git_ignored(root: Path, paths: Sequence[Path]) -> Set[Path]:
    """The paths git ignores (none when ``root`` is not inside a git work tree)."""
    if not paths:
        return set()
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--stdin", "-z"],
            input="\0".join(str(p) for p in paths) + "\0",
            capture_output=True,
            text=True,
        )
    except OSError:
        return set()
    if proc.returncode not in (0, 1):
        return set()
    return {Path(p) for p in proc.stdout.split("\0") if p}


def _walk(folder: Path) -> List[Path]:
    out: List[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _NEVER and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            out.append(Path(dirpath) / name)
    return out


def is_excluded(relpath: str, patterns: Iterable[GlobPattern], fmt: str) -> bool:
    """Whether ``tool.maturin.exclude`` drops this path (relative to the project root)."""
    for pattern in patterns:
        if pattern.applies_to(fmt) and (
            fnmatch.fnmatchcase(relpath, pattern.path) or glob_match(relpath, pattern.path)
        ):
            return True
    return False


def glob_match(relpath: str, pattern: str) -> bool:
    """Glob matching with ``**`` spanning folders, as maturin's globs do."""
    regex = _glob_regex(pattern)
    import re

    return re.fullmatch(regex, relpath) is not None


def _glob_regex(pattern: str) -> str:
    import re

    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
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
        else:
            out += re.escape(pattern[i])
            i += 1
    return out


def python_files(project: Project, *, ext_arcname: Optional[str] = None) -> Dict[str, Source]:
    """The Python sources of a mixed project and its ``python-packages``, by archive name."""
    folders: List[Path] = []
    singles: List[Path] = []
    if project.mixed and project.python_package_dir is not None:
        folders.append(project.python_package_dir)
    for pkg in project.config.python_packages:
        candidate = project.python_source / pkg
        if candidate.is_dir():
            folders.append(candidate)
        elif candidate.with_suffix(".py").is_file():
            singles.append(candidate.with_suffix(".py"))
        else:
            raise ConfigError(
                f"{project.pyproject_path}: tool.maturin.python-packages names {pkg!r}, "
                f"but neither {candidate} nor {candidate}.py exists.",
                project.pyproject_path,
                "tool.maturin.python-packages",
            )
    files = [f for folder in folders for f in _walk(folder)] + singles
    ignored = git_ignored(project.root, files)
    ext_stem = project.module_name.split(".")[-1]
    out: Dict[str, Source] = {}
    for path in files:
        if path in ignored:
            continue
        arcname = path.relative_to(project.python_source).as_posix()
        if path.name.endswith(_NATIVE_SUFFIXES) and path.name.split(".")[0] == ext_stem:
            continue  # left behind by `develop`
        rel_root = _rel(project, path)
        if rel_root is not None and is_excluded(rel_root, project.config.exclude, "wheel"):
            continue
        out[arcname] = path
    if ext_arcname is not None:
        out.pop(ext_arcname, None)
    return out


def _rel(project: Project, path: Path) -> Optional[str]:
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return None


def stub_files(project: Project) -> Dict[str, Source]:
    """A pure Rust module's ``<module>.pyi`` becomes ``__init__.pyi`` plus ``py.typed``."""
    if project.mixed:
        return {}
    module = project.module_name.split(".")[-1]
    stub = project.root / f"{module}.pyi"
    if not stub.is_file():
        return {}
    package = "/".join(project.module_name.split("."))
    return {f"{package}/__init__.pyi": stub, f"{package}/py.typed": b""}


def data_files(project: Project, data_dir_arcname: str) -> Dict[str, Source]:
    """The ``<module>.data`` folder (or ``tool.maturin.data``) mapped into ``{dist}.data/``."""
    if project.config.data:
        folder = project.root / project.config.data
        if not folder.is_dir():
            raise ConfigError(
                f"{project.pyproject_path}: tool.maturin.data is {project.config.data!r}, "
                f"but {folder} is not a folder.",
                project.pyproject_path,
                "tool.maturin.data",
            )
    else:
        base = project.python_source if project.mixed else project.root
        folder = base / f"{project.module_name.split('.')[0]}.data"
        if not folder.is_dir():
            return {}
    out: Dict[str, Source] = {}
    for path in _walk(folder):
        rel = path.relative_to(folder).as_posix()
        out[f"{data_dir_arcname}/{rel}"] = path
    return out


def include_files(project: Project, fmt: str) -> Dict[str, Source]:
    """Files matched by ``tool.maturin.include`` for ``fmt``, by path relative to the project."""
    out: Dict[str, Source] = {}
    base = project.python_source if (fmt == "wheel" and project.mixed) else project.root
    for pattern in project.config.include:
        if not pattern.applies_to(fmt):
            continue
        if os.path.isabs(pattern.path) or ".." in Path(pattern.path).parts:
            raise ConfigError(
                f"{project.pyproject_path}: tool.maturin.include pattern {pattern.path!r} "
                "must be relative to the project and stay inside it.",
                project.pyproject_path,
                "tool.maturin.include",
            )
        matches = sorted(glob.glob(str(base / pattern.path), recursive=True))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            log.warning(
                f"{project.pyproject_path}: tool.maturin.include pattern {pattern.path!r} matched no files."
            )
        for path in files:
            out[path.relative_to(base).as_posix()] = path
    return out


def merge(*parts: Mapping[str, Source]) -> Dict[str, Source]:
    """Merge mappings; later ones win."""
    out: Dict[str, Source] = {}
    for part in parts:
        out.update(part)
    return out
