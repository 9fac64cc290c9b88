"""What goes into a wheel besides the metadata: Python sources, the compiled
module at its dotted path, stubs, data folders and ``include`` files.

Everything here returns ``{archive name: source}`` mappings; writing them is
the wheel module's job.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .common import Source
from .config import GlobPattern
from .errors import ConfigError
from .globs import glob_match
from .project import Project

__all__ = [
    "DATA_SUBDIRS",
    "data_files",
    "data_folder",
    "extension_arcname",
    "git_ignored",
    "include_files",
    "is_develop_artifact",
    "is_excluded",
    "out_dir_files",
    "pure_init",
    "python_files",
    "stub_files",
    "write_files",
]

log = logging.getLogger("maturin_nox")


# Caches of Python tools: never source. maturin packs them when git does not ignore
# them; we always leave them out (they only ever hold machine-specific output).
_NEVER = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_DEBUGINFO_SUFFIXES = (".pdb", ".dwp")
DATA_SUBDIRS = ("data", "scripts", "headers", "purelib", "platlib")


def extension_arcname(project: Project, ext_suffix: str) -> str:
    """Where the compiled module goes: ``pkg/_native.<suffix>`` or ``mod/mod.<suffix>``."""
    parts = project.module_name.split(".")
    if len(parts) == 1:  # in both layouts a plain name lives inside its own package
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


# --- include/exclude ---------------------------------------------------------------------


def is_excluded(relpath: str, patterns: Iterable[GlobPattern], fmt: str) -> bool:
    """Whether ``tool.maturin.exclude`` drops this path (relative to the project root).

    The globs read as maturin's (gitignore syntax, rooted at the project): a glob
    without a slash matches a name in any folder, ``*`` stays within one folder,
    ``**`` spans folders, and a glob ending in ``/`` names folders only, so it
    never drops a file.
    """
    for pattern in patterns:
        if not pattern.applies_to(fmt) or pattern.path.endswith("/"):
            continue
        if glob_match(relpath, pattern.path):
            return True
    return False


def _excluded(project: Project, arcname: str, source: Optional[Source], fmt: str = "wheel") -> bool:
    """maturin's exclude check: by the source's path in the project, then by archive name."""
    patterns = [p for p in project.config.exclude if p.applies_to(fmt)]
    if not patterns:
        return False
    if isinstance(source, Path):
        rel = _rel(project, source)
        if rel is not None and is_excluded(rel, patterns, fmt):
            return True
    # maturin still honours (with a deprecation warning) globs written against the archive path
    return is_excluded(arcname, patterns, fmt)


def _drop_excluded(project: Project, files: Mapping[str, Source]) -> Dict[str, Source]:
    out: Dict[str, Source] = {}
    for arcname, source in files.items():
        if _excluded(project, arcname, source):
            log.debug("Excluded %s from the wheel", arcname)
            continue
        out[arcname] = source
    return out


# --- .gitignore, as maturin reads it ----------------------------------------------------------


class _GitIgnore:
    """The ``.gitignore`` files at and below the project root, read as maturin reads them.

    maturin walks the project with the ``ignore`` crate, which applies
    ``.gitignore`` files only inside a git work tree and only those in the
    project folder and below (not the ones of parent folders, the global
    excludes or ``.git/info/exclude``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.active = any((folder / ".git").exists() for folder in (root, *root.parents))
        self._rules: Dict[Path, List[Tuple[str, bool, bool]]] = {}

    def _rules_of(self, folder: Path) -> List[Tuple[str, bool, bool]]:
        if folder not in self._rules:
            rules: List[Tuple[str, bool, bool]] = []
            try:
                text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            for line in text.splitlines():
                line = line.rstrip()
                if not line or line.startswith("#"):
                    continue
                negated = line.startswith("!")
                if negated or line.startswith("\\"):
                    line = line[1:]
                rules.append((line, negated, line.endswith("/")))
            self._rules[folder] = rules
        return self._rules[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether the last matching rule of the nearest ``.gitignore`` files ignores ``path``."""
        if not self.active:
            return False
        try:
            rel_parts = path.relative_to(self.root).parts
        except ValueError:
            return False
        verdict = False
        folder = self.root
        for depth in range(len(rel_parts)):
            rel = "/".join(rel_parts[depth:])
            for pattern, negated, dir_only in self._rules_of(folder):
                if dir_only and not is_dir:
                    continue
                if glob_match(rel, pattern):
                    verdict = not negated
            folder = folder / rel_parts[depth]
        return verdict


def _walk(folder: Path, gitignore: Optional[_GitIgnore] = None) -> List[Path]:
    out: List[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _NEVER and not (gitignore and gitignore.ignored(here / d, True))
        )
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = here / name
            if gitignore is not None and gitignore.ignored(path, False):
                continue
            out.append(path)
    return out


def is_develop_artifact(relpath: str, extension_name: str) -> bool:
    """Whether a file is a native library (or its debug info) an earlier ``develop`` left behind."""
    parts = relpath.split("/")
    names = (extension_name, f"lib{extension_name}")
    for part in parts:
        if part.endswith(".dSYM"):
            return part[: -len(".dSYM")].startswith(names)
    name = parts[-1]
    return name.endswith(_NATIVE_SUFFIXES + _DEBUGINFO_SUFFIXES) and name.startswith(names)


def python_files_with_glue(
    project: Project, glue: Mapping[str, Source], *, editable: bool = False
) -> Dict[str, Source]:
    """Stubs and Python sources with generated glue (cffi, uniffi) laid over them.

    The glue is written fresh by every build, so it wins over a copy an
    earlier ``develop`` left in the source tree, and native libraries such a
    run left beside it (whatever their name) are not packed.
    """
    folders = tuple({name.rsplit("/", 1)[0] + "/" for name in glue if "/" in name})
    files = {**stub_files(project), **python_files(project, editable=editable)}
    for arcname in list(files):
        if (
            arcname not in glue
            and arcname.startswith(folders)
            and arcname.endswith(_NATIVE_SUFFIXES + _DEBUGINFO_SUFFIXES)
        ):
            log.debug("Ignoring develop build artifact %s", arcname)
            del files[arcname]
    files.update(glue)
    return files


def _ancestor_ignored(gitignore: _GitIgnore, path: Path) -> bool:
    """Whether a folder between the project root and ``path`` is ignored (git never looks inside)."""
    try:
        rel = path.relative_to(gitignore.root)
    except ValueError:
        return False
    folder = gitignore.root
    for part in rel.parts[:-1]:
        folder = folder / part
        if gitignore.ignored(folder, True):
            return True
    return False


def _inside_root(project: Project, paths: List[Path]) -> List[Path]:
    """The packages maturin's walk reaches: it starts at the project folder, so a
    ``python-source`` outside it (``"../python"``) packs nothing into a wheel built
    from the tree. The sdist moves that folder inside, so wheels built from it have
    the packages. Same wheels as maturin, with a warning maturin does not give."""
    inside = [p for p in paths if project.root in p.parents]
    for path in paths:
        if path not in inside:
            log.warning(
                f"{project.pyproject_path}: tool.maturin.python-source is "
                f"{project.config.python_source!r}, outside {project.root}, so "
                f"{path.name} is left out of this wheel, as maturin leaves it out; "
                "an sdist packs it and wheels built from the sdist have it."
            )
    return inside


def python_files(
    project: Project, *, ext_arcname: Optional[str] = None, editable: bool = False
) -> Dict[str, Source]:
    """The Python sources of a mixed project and its ``python-packages``, by archive name.

    ``editable``: a develop or editable install, whose ``.pth`` file serves the
    python-source folder wherever it is.
    """
    folders: List[Path] = []
    singles: List[Path] = []
    if project.mixed and project.python_package_dir is not None:
        folders.append(project.python_package_dir)
    for pkg in project.config.python_packages:
        candidate = project.python_source / pkg
        if candidate.is_dir():
            if candidate not in folders:
                folders.append(candidate)
        elif candidate.with_suffix(".py").is_file():
            singles.append(candidate.with_suffix(".py"))
        else:
            log.warning(
                f"{project.pyproject_path}: tool.maturin.python-packages names {pkg!r}, "
                f"but neither {candidate} nor {candidate}.py exists."
            )
    if not editable:
        folders, singles = _inside_root(project, folders), _inside_root(project, singles)
    gitignore = _GitIgnore(project.root)
    files: List[Path] = []
    for folder in folders:
        if not _ancestor_ignored(gitignore, folder / "x") and not gitignore.ignored(folder, True):
            files += _walk(folder, gitignore)
    files += [
        f
        for f in singles
        if not gitignore.ignored(f, False) and not _ancestor_ignored(gitignore, f)
    ]
    extension_name = project.module_name.split(".")[-1]
    out: Dict[str, Source] = {}
    for path in files:
        arcname = path.relative_to(project.python_source).as_posix()
        if is_develop_artifact(arcname, extension_name):
            log.debug("Ignoring develop build artifact %s", arcname)
            continue
        if _excluded(project, arcname, path):
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
    log.info(f"📖 Found type stub file at {module}.pyi")
    package = "/".join(project.module_name.split("."))
    return _drop_excluded(project, {f"{package}/__init__.pyi": stub, f"{package}/py.typed": b""})


def data_folder(project: Project) -> Optional[Path]:
    """The wheel data folder: ``tool.maturin.data``, else ``<module-name>.data`` beside pyproject.toml."""
    if project.config.data:
        folder = project.root / project.config.data
        if not folder.is_dir():
            raise ConfigError(
                f"{project.pyproject_path}: tool.maturin.data is {project.config.data!r}, "
                f"but {folder} is not a folder.",
                project.pyproject_path,
                "tool.maturin.data",
            )
        return folder
    folder = project.root / f"{project.module_name}.data"
    return folder if folder.is_dir() else None


def data_files(project: Project, data_dir_arcname: str) -> Dict[str, Source]:
    """The data folder's ``data``, ``scripts``, ``headers``, ``purelib``, ``platlib`` under ``{dist}.data/``."""
    folder = data_folder(project)
    if folder is None:
        return {}
    out: Dict[str, Source] = {}
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir() or entry.name not in DATA_SUBDIRS:
            raise ConfigError(
                f"{entry} is not allowed in the wheel data folder {folder}: it may only hold "
                f"the folders {', '.join(DATA_SUBDIRS)}.",
                project.pyproject_path,
                "tool.maturin.data",
            )
        # every file counts here, hidden or ignored; symlinks are read through
        for dirpath, dirnames, filenames in os.walk(entry):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                rel = path.relative_to(folder).as_posix()
                out[f"{data_dir_arcname}/{rel}"] = path.resolve() if path.is_symlink() else path
    return _drop_excluded(project, out)


def _check_pattern(project: Project, pattern: str, key: str) -> None:
    parts = pattern.replace("\\", "/").split("/")
    if os.path.isabs(pattern) or ".." in parts or "." in parts:
        raise ConfigError(
            f"{project.pyproject_path}: tool.maturin.{key} pattern {pattern!r} must be a "
            "relative path inside the project (no leading /, no . or .. parts).",
            project.pyproject_path,
            f"tool.maturin.{key}",
        )


def _glob_files(base: Path, pattern: str) -> List[Path]:
    full = os.path.join(glob.escape(str(base)), pattern)
    if sys.version_info >= (3, 11):
        # Rust's glob (maturin's) lets * match a leading dot
        found = glob.glob(full, recursive=True, include_hidden=True)
    else:
        found = glob.glob(full, recursive=True)
    return [Path(m) for m in sorted(set(found)) if Path(m).is_file()]


def include_files(project: Project, fmt: str) -> Dict[str, Source]:
    """Files matched by ``tool.maturin.include`` for ``fmt``, by archive name.

    As maturin: a glob is read from the project root, and from the Python source
    folder when it matches nothing there. In a wheel, a file inside the Python
    source folder keeps its path below that folder (``python/pkg/x`` becomes
    ``pkg/x``); in an sdist every path stays relative to the project root.
    """
    out: Dict[str, Source] = {}
    root, python_dir = project.root, project.python_source
    for pattern in project.config.include:
        if not pattern.applies_to(fmt):
            continue
        _check_pattern(project, pattern.path, "include")
        base = root
        files = _glob_files(root, pattern.path)
        if not files and python_dir != root:
            base = python_dir
            files = _glob_files(python_dir, pattern.path)
        if not files:
            log.warning(
                f"⚠️ {project.pyproject_path}: tool.maturin.include pattern {pattern.path!r} "
                f"matched no files (looked in {root}"
                + (f" and {python_dir}" if python_dir != root else "")
                + ")."
            )
            continue
        log.info(f'📦 Including files matching "{pattern.path}"')
        for path in files:
            if fmt == "wheel" and python_dir != root and python_dir in path.parents:
                arcname = path.relative_to(python_dir).as_posix()
            elif fmt == "sdist" and base == python_dir and root in python_dir.parents:
                arcname = path.relative_to(root).as_posix()
            else:
                arcname = path.relative_to(base).as_posix()
            if fmt == "wheel" and _excluded(project, arcname, path):
                continue
            out[arcname] = path
    return out


def out_dir_files(project: Project, out_dirs: Mapping[str, Path]) -> Dict[str, Source]:
    """Files build scripts wrote, as ``include = [{ path, from = "out-dir", to }]`` asks, by archive name.

    ``out_dirs`` maps package names to the ``OUT_DIR`` cargo reported for their
    build script in this build. As in maturin, ``path`` is a glob below the
    ``OUT_DIR`` of ``crate-name`` (the project's own crate by default) and each
    match goes to ``to/<its path below OUT_DIR>``.
    """
    out: Dict[str, Source] = {}
    for item in project.config.out_dir_includes:
        crate = item.crate_name or project.crate_name
        out_dir = out_dirs.get(crate)
        if out_dir is None:
            raise ConfigError(
                f"{project.pyproject_path}: tool.maturin.include asks for {item.path!r} from the "
                f'OUT_DIR of crate "{crate}", but this build ran no build script (build.rs) for it.',
                project.pyproject_path,
                "tool.maturin.include",
            )
        log.info(f'📦 Including files matching "{item.path}" from OUT_DIR of "{crate}"')
        files = _glob_files(out_dir, item.path)
        if not files:
            log.warning(f'No files matched "{item.path}" in OUT_DIR ({out_dir}).')
        prefix = item.to.replace("\\", "/").strip("/")
        for path in files:
            rel = path.relative_to(out_dir).as_posix()
            out[f"{prefix}/{rel}" if prefix else rel] = path
    return _drop_excluded(project, out)


def write_files(files: Mapping[str, Source], root: Path) -> List[Path]:
    """Write an ``{archive name: source}`` mapping below ``root`` (for ``develop``), returning the paths.

    An existing file is replaced by renaming a fresh copy over it, so a process
    that has the old library mapped keeps its inode instead of crashing.
    """
    written: List[Path] = []
    for arcname, source in sorted(files.items()):
        dest = root / arcname
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.maturin-nox.tmp")
        if isinstance(source, bytes):
            tmp.write_bytes(source)
        else:
            shutil.copy2(source, tmp)
        os.replace(tmp, dest)
        written.append(dest)
    return written
