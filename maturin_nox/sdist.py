"""Source distributions: the crate, its path dependencies and the Python sources in one .tar.gz.

The layout is maturin 1.16's. Every file keeps its place relative to the
*sdist root*, the deepest folder holding the Cargo workspace root, the
pyproject.toml, every path dependency and the Python sources, so the relative
``path = "../dep"`` entries of the manifests still work once unpacked. The
pyproject.toml always sits at the top of the archive (with ``manifest-path``
rewritten when it moved), beside ``PKG-INFO``. Each crate contributes what
``cargo package --list --allow-dirty`` lists; manifests are rewritten only when
their meaning must change (workspace members pruned, a readme or license file
copied beside the manifest, workspace-inherited fields inlined when the
workspace root stays outside the archive).
"""

from __future__ import annotations

import copy
import gzip
import io
import logging
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import cargo
from .atomic import publish_mode
from .errors import CargoError, ConfigError, ProjectError
from .layout import git_ignored, include_files, is_excluded
from .project import Project, load_project, locate_manifests
from .toml import dumps_toml, load_toml, loads_toml
from .wheel import escape_name

__all__ = ["build_sdist", "sdist_file_list", "sdist_filename"]

log = logging.getLogger("maturin_nox")

Source = Union[Path, bytes]

# maturin's timestamp for sdist entries when SOURCE_DATE_EPOCH is unset.
_DEFAULT_MTIME = 1153704088
_COMPILED = (".so", ".pyd", ".dll", ".dylib", ".pyc", ".pyo")
_DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")
# Tables a workspace-root manifest keeps once its own [package] is dropped.
_WORKSPACE_TABLES = ("workspace", "patch", "replace", "profile")


@dataclass(frozen=True)
class _Crate:
    """A crate that goes into the sdist: its manifest, workspace root and cargo metadata entry."""

    name: str
    manifest: Path
    workspace_root: Path
    package: Mapping[str, Any]


@dataclass(frozen=True)
class _Layout:
    """Where things go: the sdist root on disk and the project's folders."""

    sdist_root: Path
    pyproject_dir: Path
    main_dir: Path
    workspace_root: Path
    python_dir: Path

    def rel(self, path: Path) -> str:
        """``path`` relative to the sdist root, as an archive path ('' for the root)."""
        rel = path.relative_to(self.sdist_root).as_posix()
        return "" if rel == "." else rel


def sdist_filename(project: Project) -> str:
    """The PEP 625 file name: ``{normalized_name}-{version}.tar.gz``."""
    return f"{_base_name(project)}.tar.gz"


def _base_name(project: Project) -> str:
    return f"{escape_name(project.name)}-{project.version.replace('-', '_')}"


def build_sdist(
    manifest_path: Optional[Path] = None,
    *,
    out_dir: Optional[Path] = None,
    cwd: Optional[Path] = None,
    project: Optional[Project] = None,
) -> Path:
    """Write the project's source distribution and return the .tar.gz path."""
    if project is None:
        project = _load(manifest_path, cwd)
    files = sdist_file_list(project)
    base = (cwd or Path.cwd()).resolve()
    out = (base / out_dir) if out_dir is not None else project.target_directory / "wheels"
    path = _write_tar(out.resolve() / sdist_filename(project), _base_name(project), files)
    log.info(f"📦 Built source distribution to {path}")
    return path


def sdist_file_list(project: Project) -> Dict[str, Source]:
    """Every file of the sdist by path under its top folder, mapped to its source."""
    pyproject = _require_build_system(project)
    if project.config.sdist_generator == "git":
        files = _git_files(project)
    else:
        files = _cargo_files(project, pyproject)
    for relpath, source in include_files(project, "sdist").items():
        if isinstance(source, Path) and _escapes(source, project.root):
            log.warning(f"Not following {source} into the sdist: it points outside {project.root}.")
            continue
        files[relpath] = source
    files["PKG-INFO"] = project.metadata.metadata_text.encode("utf-8")
    return dict(sorted(files.items()))


def _load(manifest_path: Optional[Path], cwd: Optional[Path]) -> Project:
    """Load the project; a failing ``cargo metadata`` is explained if a path dependency is missing."""
    try:
        return load_project(manifest_path, cwd=cwd)
    except CargoError:
        manifest, _ = locate_manifests(manifest_path, cwd)
        missing = _missing_path_dependency(manifest)
        if missing is not None:
            raise missing from None
        raise


def _require_build_system(project: Project) -> Path:
    """maturin refuses an sdist pip could not build: it needs a pyproject.toml with [build-system]."""
    if project.pyproject_path is None or project.pyproject is None:
        raise ProjectError(
            f"{project.manifest_path.parent} has no pyproject.toml, so an sdist of it could not "
            "be built by pip; add one with a [build-system] table naming the build backend.",
            project.manifest_path,
        )
    if not isinstance(project.pyproject.get("build-system"), dict):
        raise ConfigError(
            f"{project.pyproject_path} has no [build-system] table, so an sdist of it could not "
            'be built by pip; add requires = ["maturin-nox"] and build-backend = "maturin_nox.backend".',
            project.pyproject_path,
            "build-system",
        )
    return project.pyproject_path


# --- finding the crates -------------------------------------------------------------------


def _path_dependencies(project: Project) -> Dict[str, _Crate]:
    """Every path dependency reachable from the crate (normal, dev and build, any platform)."""
    meta = project.cargo_metadata
    by_manifest = {Path(p["manifest_path"]): p for p in meta.get("packages", [])}
    ws_root = project.workspace_root
    found: Dict[str, _Crate] = {}
    stack: List[Mapping[str, Any]] = [project.package]
    while stack:
        package = stack.pop()
        for dep in package.get("dependencies", []):
            if not dep.get("path"):
                continue
            manifest = Path(dep["path"]) / "Cargo.toml"
            name = str(dep.get("rename") or dep["name"])
            if any(c.manifest == manifest for c in found.values()):
                continue
            dep_package = by_manifest.get(manifest) or _package_of(manifest, project)
            same_ws = ws_root in manifest.parents
            dep_ws = (
                ws_root if same_ws else Path(_metadata_no_deps(manifest, project)["workspace_root"])
            )
            found[name] = _Crate(name, manifest, dep_ws, dep_package)
            stack.append(dep_package)
    return found


def _metadata_no_deps(manifest: Path, project: Project) -> Mapping[str, Any]:
    flags = ["--no-deps", *project.cargo_flags()]
    return cargo.metadata(manifest, flags=flags)


def _package_of(manifest: Path, project: Project) -> Mapping[str, Any]:
    """The metadata entry of a path dependency the platform-filtered resolve left out."""
    for package in _metadata_no_deps(manifest, project).get("packages", []):
        if Path(package["manifest_path"]) == manifest:
            return package  # type: ignore[no-any-return]
    raise ProjectError(f"`cargo metadata` does not describe the package at {manifest}.", manifest)


def _missing_path_dependency(manifest: Path) -> Optional[ProjectError]:
    """Walk the manifests' path dependencies and name the first one with no Cargo.toml."""
    seen: Set[Path] = set()
    stack = [manifest]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            doc = load_toml(current)
        except ProjectError:
            continue
        for table_name, name, spec in _dependency_specs(doc):
            base = current.parent
            if spec.get("workspace") is True:
                ws = _workspace_manifest(current)
                ws_deps = load_toml(ws).get("workspace", {}).get("dependencies", {}) if ws else {}
                spec = ws_deps.get(name, {}) if isinstance(ws_deps, dict) else {}
                base = ws.parent if ws else base
            path = spec.get("path") if isinstance(spec, dict) else None
            if not isinstance(path, str):
                continue
            dep_manifest = Path(os.path.normpath(base / path)) / "Cargo.toml"
            if not dep_manifest.is_file():
                return ProjectError(
                    f"{current}: path dependency {name!r} in [{table_name}] points at "
                    f"{dep_manifest.parent}, which has no Cargo.toml.",
                    current,
                )
            stack.append(dep_manifest)
    return None


def _dependency_specs(doc: Mapping[str, Any]) -> Iterator[Tuple[str, str, Any]]:
    """(table, name, spec) for every dependency, platform-specific ones included."""
    tables: List[Tuple[str, Any]] = [(t, doc.get(t)) for t in _DEP_TABLES]
    for cfg, body in (doc.get("target") or {}).items():
        if isinstance(body, dict):
            tables += [(f"target.{cfg}.{t}", body.get(t)) for t in _DEP_TABLES]
    for table_name, table in tables:
        if isinstance(table, dict):
            for name, spec in table.items():
                yield table_name, name, spec


def _workspace_manifest(manifest: Path) -> Optional[Path]:
    """The manifest with a [workspace] table at or above ``manifest``."""
    for folder in [manifest.parent, *manifest.parent.parents]:
        candidate = folder / "Cargo.toml"
        if candidate.is_file():
            try:
                if "workspace" in load_toml(candidate):
                    return candidate
            except ProjectError:
                return None
    return None


# --- the cargo generator ------------------------------------------------------------------


def _compute_layout(project: Project, deps: Mapping[str, _Crate]) -> _Layout:
    """The sdist root: the common folder of the workspace, pyproject, path deps and Python sources."""
    assert project.pyproject_path is not None
    pyproject_dir = project.pyproject_path.parent
    folders = [project.workspace_root, pyproject_dir, *(c.manifest.parent for c in deps.values())]
    folders.append(project.python_source)
    root = Path(os.path.commonpath([str(f) for f in folders]))
    return _Layout(
        sdist_root=root,
        pyproject_dir=pyproject_dir,
        main_dir=project.manifest_path.parent,
        workspace_root=project.workspace_root,
        python_dir=project.python_source,
    )


def _cargo_files(project: Project, pyproject_path: Path) -> Dict[str, Source]:
    """Path dependencies, the crate, Cargo.lock, the workspace manifest, pyproject, Python sources."""
    deps = _path_dependencies(project)
    lay = _compute_layout(project, deps)
    files: Dict[str, Source] = {}
    for crate in sorted(deps.values(), key=lambda c: str(c.manifest)):
        files.update(_dependency_files(project, lay, crate))
    files.update(_main_crate_files(project, lay, deps))
    files.update(_cargo_lock(project, lay))
    files.update(_workspace_manifest_files(project, lay, deps))
    files.update(_python_sources(project, lay))
    files.update(_pyproject_files(project, lay, pyproject_path))
    files.update(_license_files(project, lay, files))
    return files


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _crate_files(
    project: Project,
    lay: _Layout,
    manifest: Path,
    package: Mapping[str, Any],
    allowed_license_root: Path,
    skip_prefixes: Sequence[str] = (),
) -> Tuple[Dict[str, Source], Dict[str, str]]:
    """The files ``cargo package --list`` gives for one crate, and [package] fields to rewrite."""
    prefix = lay.rel(manifest.parent)
    files: Dict[str, Source] = {}
    for entry in _cargo_package_list(manifest, project):
        if entry in ("Cargo.toml", "Cargo.toml.orig") or entry.endswith(_COMPILED):
            continue
        if any(entry == p or entry.startswith(p + "/") for p in skip_prefixes):
            continue  # python sources: added from the pyproject folder instead
        source = manifest.parent / entry
        if not source.is_file():
            continue  # generated by cargo (Cargo.lock of a member, .cargo_vcs_info.json)
        arcname = _join(prefix, entry)
        if _escapes(source, lay.sdist_root):
            log.warning(
                f"Not following {source} into the sdist: it points outside {lay.sdist_root}."
            )
        elif not _excluded(project, arcname, source):
            files[arcname] = source
    fields: Dict[str, str] = {}
    for key, kind in (("readme", "readme"), ("license_file", "license-file")):
        value = package.get(key)
        if not value:
            continue
        asset = Path(os.path.normpath(manifest.parent / str(value)))
        if not asset.is_file():
            raise ProjectError(
                f"{manifest}: package.{kind} points at {asset}, which does not exist.", manifest
            )
        if kind == "license-file" and _escapes(asset, allowed_license_root):
            raise ConfigError(
                f"{manifest}: package.license-file points at {asset}, outside the workspace "
                f"{allowed_license_root}.",
                manifest,
                "package.license-file",
            )
        files[_join(prefix, asset.name)] = asset
        if PurePosixPath(str(value).replace("\\", "/")) != PurePosixPath(asset.name):
            fields[kind] = asset.name  # the copy beside the manifest
    return files, fields


def _dependency_files(project: Project, lay: _Layout, crate: _Crate) -> Dict[str, Source]:
    """One path dependency: its files, its manifest (rewritten) and its workspace manifest."""
    files, fields = _crate_files(project, lay, crate.manifest, crate.package, crate.workspace_root)
    prefix = lay.rel(crate.manifest.parent)
    ws_manifest = crate.workspace_root / "Cargo.toml"
    # a crate in a workspace of its own (not the main one, not just itself)
    other_ws = crate.workspace_root != lay.workspace_root and ws_manifest != crate.manifest
    inline = other_ws and lay.sdist_root not in ws_manifest.parents
    if crate.manifest != lay.workspace_root / "Cargo.toml":
        # The main workspace's root package is written by _workspace_manifest_files.

        def edit(doc: Dict[str, Any]) -> None:
            _set_package_fields(doc, fields)
            if inline:
                _inline_workspace_fields(doc, crate.package, crate.manifest.parent)

        files[_join(prefix, "Cargo.toml")] = _rewritten(crate.manifest, edit)
    if other_ws and not inline and ws_manifest.is_file():
        files[_join(lay.rel(ws_manifest.parent), "Cargo.toml")] = ws_manifest
    return files


def _main_crate_files(
    project: Project, lay: _Layout, deps: Mapping[str, _Crate]
) -> Dict[str, Source]:
    """The crate itself, its manifest with its own [workspace] (if any) pruned to the path deps."""
    skip: List[str] = []
    if lay.main_dir != lay.sdist_root:
        packages = [project.python_package_dir] if project.python_package_dir else []
        packages += [project.python_source / p for p in project.config.python_packages]
        for package in packages:
            if lay.main_dir in package.parents:
                skip.append(package.relative_to(lay.main_dir).as_posix())
    files, fields = _crate_files(
        project, lay, project.manifest_path, project.package, lay.workspace_root, skip
    )
    # the pyproject.toml goes to the top of the sdist, rewritten if needed
    files.pop(_join(lay.rel(lay.main_dir), "pyproject.toml"), None)

    def edit(doc: Dict[str, Any]) -> None:
        _set_package_fields(doc, fields)
        _prune_members(doc, project.manifest_path, deps.values(), keep=())

    files[_join(lay.rel(lay.main_dir), "Cargo.toml")] = _rewritten(project.manifest_path, edit)
    return files


def _cargo_lock(project: Project, lay: _Layout) -> Dict[str, Source]:
    """The crate's Cargo.lock, or the workspace's, at its place."""
    for lock in (lay.main_dir / "Cargo.lock", lay.workspace_root / "Cargo.lock"):
        if lock.is_file():
            return {lay.rel(lock)[: -len("Cargo.lock")] + "Cargo.lock": lock}
    if project.config.locked or project.config.frozen:
        raise ProjectError(
            f"{project.pyproject_path}: tool.maturin asks for locked/frozen builds, but there is "
            f"no Cargo.lock beside {project.manifest_path} or in {lay.workspace_root}.",
            project.pyproject_path,
        )
    log.warning(
        "Cargo.lock was not found; it is recommended to include it in the source distribution."
    )
    return {}


def _workspace_manifest_files(
    project: Project, lay: _Layout, deps: Mapping[str, _Crate]
) -> Dict[str, Source]:
    """The workspace root manifest, members pruned to what the sdist holds."""
    if lay.workspace_root == lay.main_dir:
        return {}
    manifest = lay.workspace_root / "Cargo.toml"
    main_member = lay.main_dir.relative_to(lay.workspace_root).as_posix()
    root_is_dep = any(c.manifest == manifest for c in deps.values())

    def edit(doc: Dict[str, Any]) -> None:
        _prune_members(doc, manifest, deps.values(), keep=(main_member,))
        if not root_is_dep and "package" in doc:
            # its own sources are not in the sdist: keep only the workspace part
            for key in [k for k in doc if k not in _WORKSPACE_TABLES]:
                del doc[key]

    rel = lay.rel(lay.workspace_root)
    return {_join(rel, "Cargo.toml"): _rewritten(manifest, edit)}


def _python_sources(project: Project, lay: _Layout) -> Dict[str, Source]:
    """The mixed project's Python package and ``python-packages``, by place under the pyproject folder."""
    packages = [project.python_package_dir] if project.python_package_dir else []
    packages += [project.python_source / p for p in project.config.python_packages]
    found: List[Path] = []
    for package in packages:
        if package.is_file():
            found.append(package)
            continue
        for dirpath, dirnames, filenames in os.walk(package):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and d != "__pycache__"
            )
            found += [Path(dirpath) / n for n in sorted(filenames) if not n.startswith(".")]
    ignored = git_ignored(project.root, found)
    files: Dict[str, Source] = {}
    for path in found:
        if path in ignored or path.name.endswith(_COMPILED):
            continue
        if _escapes(path, lay.sdist_root):
            log.warning(f"Not following {path} into the sdist: it points outside {lay.sdist_root}.")
            continue
        arcname = _pyproject_relative(path, lay)
        if not _excluded(project, arcname, path):
            files[arcname] = path
    return files


def _pyproject_relative(path: Path, lay: _Layout) -> str:
    """Where a file of the Python project goes: under the pyproject folder, else the sdist root."""
    inside = path == lay.pyproject_dir or lay.pyproject_dir in path.parents
    base = lay.pyproject_dir if inside else lay.sdist_root
    return path.relative_to(base).as_posix()


def _pyproject_files(project: Project, lay: _Layout, pyproject_path: Path) -> Dict[str, Source]:
    """pyproject.toml at the top (rewritten if it moved), and the readme it names."""
    files: Dict[str, Source] = {}
    readme_rewrite: Optional[str] = None
    readme = _pyproject_readme(project)
    if readme is not None:
        key, value = readme
        source = Path(os.path.normpath(lay.pyproject_dir / value))
        if _escapes(source, lay.sdist_root) or not source.is_file():
            raise ConfigError(
                f"{pyproject_path}: {key} points at {source}, which is missing or outside the "
                f"sdist root {lay.sdist_root}.",
                pyproject_path,
                key,
            )
        arcname = _pyproject_relative(source, lay)
        files[arcname] = source
        if PurePosixPath(value) != PurePosixPath(arcname):
            readme_rewrite = arcname
    moved = lay.pyproject_dir != lay.sdist_root
    if not moved and readme_rewrite is None:
        files["pyproject.toml"] = pyproject_path
        return files

    def edit(doc: Dict[str, Any]) -> None:
        if moved:
            maturin = doc.setdefault("tool", {}).setdefault("maturin", {})
            maturin["manifest-path"] = _join(lay.rel(lay.main_dir), "Cargo.toml")
            if lay.python_dir != lay.pyproject_dir:
                maturin["python-source"] = _pyproject_relative(lay.python_dir, lay)
        if readme_rewrite is not None:
            table = doc["project"]
            if isinstance(table["readme"], dict):
                table["readme"]["file"] = readme_rewrite
            else:
                table["readme"] = readme_rewrite

    files["pyproject.toml"] = _rewritten(pyproject_path, edit)
    return files


def _pyproject_readme(project: Project) -> Optional[Tuple[str, str]]:
    """(key, path) of the readme file pyproject.toml names, if any."""
    table = (project.pyproject or {}).get("project", {})
    readme = table.get("readme") if isinstance(table, dict) else None
    if isinstance(readme, str):
        return "project.readme", readme
    if isinstance(readme, dict) and isinstance(readme.get("file"), str):
        return "project.readme.file", readme["file"]
    return None


def _license_files(
    project: Project, lay: _Layout, files: Mapping[str, Source]
) -> Dict[str, Source]:
    """License files the metadata names (License-File) that live in the pyproject folder."""
    out: Dict[str, Source] = {}
    for _, source in project.metadata.license_files:
        if lay.pyproject_dir in source.parents and source.is_file():
            arcname = source.relative_to(lay.pyproject_dir).as_posix()
            if arcname not in files and not _escapes(source, lay.sdist_root):
                out[arcname] = source
    return out


# --- the git generator --------------------------------------------------------------------


def _git_files(project: Project) -> Dict[str, Source]:
    """``sdist-generator = "git"``: the files git tracks in the pyproject folder."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z"], cwd=project.root, capture_output=True, text=True
        )
    except OSError as exc:
        raise ProjectError(
            f"Cannot run `git ls-files` in {project.root}: {exc.strerror}."
        ) from None
    if proc.returncode != 0:
        raise ProjectError(
            f'`git ls-files` failed in {project.root} (tool.maturin.sdist-generator = "git"): '
            f"{proc.stderr.strip() or 'no output'}."
        )
    files: Dict[str, Source] = {}
    for entry in filter(None, proc.stdout.split("\0")):
        source = project.root / entry
        if not source.is_file() or _escapes(source, project.root):
            continue
        if not _excluded(project, entry, source):
            files[entry] = source
    return files


# --- helpers ------------------------------------------------------------------------------


def _cargo_package_list(manifest: Path, project: Project) -> List[str]:
    """``cargo package --list --allow-dirty``: the files cargo would package for the crate."""
    cmd = [cargo.cargo_executable(), "package", "--list", "--allow-dirty", "--manifest-path"]
    cmd += [str(manifest), *project.cargo_flags()]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise CargoError(f"Cannot run `{cmd[0]}`: {exc.strerror}.", cmd) from None
    if proc.returncode != 0:
        errors = [line.strip() for line in proc.stderr.splitlines() if line.startswith("error")]
        detail = errors[0] if errors else (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CargoError(
            f"`cargo package --list` failed for {manifest}: {detail.rstrip('.')}.", cmd
        )
    if proc.stderr.strip():
        log.debug(proc.stderr.strip())
    return [line for line in proc.stdout.splitlines() if line.strip()]


def _escapes(path: Path, root: Path) -> bool:
    """Whether ``path`` (following symlinks) lies outside ``root``."""
    real = Path(os.path.realpath(path))
    real_root = Path(os.path.realpath(root))
    return real != real_root and real_root not in real.parents


def _excluded(project: Project, arcname: str, source: Source) -> bool:
    """``tool.maturin.exclude`` (sdist format), by archive path or by path in the project."""
    patterns = [p for p in project.config.exclude if p.applies_to("sdist")]
    if not patterns:
        return False
    if is_excluded(arcname, patterns, "sdist"):
        return True
    if isinstance(source, Path) and project.root in source.parents:
        return is_excluded(source.relative_to(project.root).as_posix(), patterns, "sdist")
    return False


def _rewritten(path: Path, edit: Any) -> Source:
    """The file itself when ``edit`` leaves its TOML unchanged, else the rewritten TOML."""
    original = loads_toml(path.read_text(encoding="utf-8"), path)
    doc = copy.deepcopy(original)
    edit(doc)
    if doc == original:
        return path
    return dumps_toml(doc).encode("utf-8")


def _set_package_fields(doc: Dict[str, Any], fields: Mapping[str, str]) -> None:
    if fields and isinstance(doc.get("package"), dict):
        doc["package"].update(fields)


def _prune_members(doc: Dict[str, Any], manifest: Path, deps: Any, keep: Sequence[str]) -> None:
    """Keep only the workspace members the sdist holds; drop default-members."""
    workspace = doc.get("workspace")
    if not isinstance(workspace, dict):
        return
    workspace.pop("default-members", None)
    members = workspace.get("members")
    if not isinstance(members, list):
        return
    ws_dir = manifest.parent
    wanted = set(keep)
    for crate in deps:
        if ws_dir == crate.manifest.parent or ws_dir in crate.manifest.parents:
            rel = crate.manifest.parent.relative_to(ws_dir).as_posix()
            wanted.add(rel if rel else ".")
    new = [
        m
        for m in members
        if isinstance(m, str)
        and (m in wanted or (_is_glob(m) and any(_glob_matches(m, w) for w in wanted)))
    ]
    if new:
        workspace["members"] = new
    else:
        workspace.pop("members")
        if not workspace and not keep:
            del doc["workspace"]


def _is_glob(member: str) -> bool:
    return any(ch in member for ch in "*?[]")


def _glob_matches(pattern: str, path: str) -> bool:
    import fnmatch

    parts, pats = path.split("/"), pattern.rstrip("/").split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pats))


_STRING_FIELDS = {
    "version": "version",
    "edition": "edition",
    "description": "description",
    "license": "license",
    "repository": "repository",
    "homepage": "homepage",
    "documentation": "documentation",
    "rust-version": "rust_version",
}
_LIST_FIELDS = {"authors": "authors", "keywords": "keywords", "categories": "categories"}


def _inherited(value: Any) -> bool:
    return isinstance(value, dict) and value.get("workspace") is True


def _inline_workspace_fields(
    doc: Dict[str, Any], package: Mapping[str, Any], manifest_dir: Path
) -> None:
    """Replace ``field.workspace = true`` by the values cargo resolved, for a workspace left out."""
    table = doc.get("package")
    if isinstance(table, dict):
        for key in list(table):
            if not _inherited(table[key]):
                continue
            resolved: Any = None
            if key in _STRING_FIELDS:
                resolved = package.get(_STRING_FIELDS[key])
            elif key in _LIST_FIELDS:
                resolved = list(package.get(_LIST_FIELDS[key]) or []) or None
            elif key == "publish":
                publish = package.get("publish")
                resolved = publish if publish is not None else None
            if key in ("readme", "license-file") and isinstance(table[key], dict):
                value = package.get(key.replace("-", "_"))
                resolved = Path(str(value)).name if value else None
            if resolved is None:
                del table[key]
            else:
                table[key] = resolved
    if _inherited(doc.get("lints")):
        del doc["lints"]
    tables: List[Any] = [doc.get(t) for t in _DEP_TABLES]
    for cfg, body in (doc.get("target") or {}).items():
        if isinstance(body, dict):
            tables += [(body.get(t), cfg) for t in _DEP_TABLES]
    for item in tables:
        table, cfg = item if isinstance(item, tuple) else (item, None)
        if not isinstance(table, dict):
            continue
        for name, spec in list(table.items()):
            if _inherited(spec):
                resolved_dep = _resolved_dependency(package, name, cfg, manifest_dir)
                if resolved_dep is not None:
                    table[name] = resolved_dep


def _resolved_dependency(
    package: Mapping[str, Any], name: str, cfg: Optional[str], manifest_dir: Path
) -> Optional[Any]:
    """A dependency spec written out from cargo's resolved view of it."""
    for dep in package.get("dependencies", []):
        if (dep.get("rename") or dep["name"]) != name or (
            cfg is not None and dep.get("target") != cfg
        ):
            continue
        spec: Dict[str, Any] = {}
        if dep.get("path"):
            spec["path"] = Path(os.path.relpath(dep["path"], manifest_dir)).as_posix()
        else:
            spec["version"] = dep["req"]
        if not dep.get("uses_default_features", True):
            spec["default-features"] = False
        if dep.get("optional"):
            spec["optional"] = True
        if dep.get("features"):
            spec["features"] = list(dep["features"])
        if dep.get("rename"):
            spec["package"] = dep["name"]
        if list(spec) == ["version"]:
            return spec["version"]
        return spec
    return None


# --- writing the archive ---------------------------------------------------------


def _mtime() -> int:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if not raw:
        return _DEFAULT_MTIME
    try:
        return max(0, int(raw))
    except ValueError:
        raise ProjectError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}."
        ) from None


def _write_tar(path: Path, top: str, files: Mapping[str, Source]) -> Path:
    """Write a reproducible .tar.gz to a temporary file, then rename it into place."""
    mtime = _mtime()
    path.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(files, key=lambda n: (n != "PKG-INFO", n))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0
        ) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in names:
                source = files[name]
                data = source if isinstance(source, bytes) else _read(source)
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size = len(data)
                info.mtime = mtime
                executable = isinstance(source, Path) and os.access(source, os.X_OK)
                info.mode = 0o755 if executable else 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"Cannot read {path} for the sdist: {exc.strerror}.", path) from None
