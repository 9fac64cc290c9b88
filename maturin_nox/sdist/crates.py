"""Finding what an sdist holds: the crate's path dependencies (with their workspaces) and the
sdist root, the deepest folder holding all of them, the pyproject.toml and the Python sources."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from .. import cargo
from ..errors import ProjectError
from ..project import Project
from ..toml import load_toml

__all__ = [
    "DEP_TABLES",
    "Crate",
    "Layout",
    "compute_layout",
    "dependency_specs",
    "metadata_no_deps",
    "missing_path_dependency",
    "package_of",
    "path_dependencies",
    "workspace_manifest",
]


DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


@dataclass(frozen=True)
class Crate:
    """A crate that goes into the sdist: its manifest, workspace root and cargo metadata entry."""

    name: str
    manifest: Path
    workspace_root: Path
    package: Mapping[str, Any]


@dataclass(frozen=True)
class Layout:
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


def path_dependencies(project: Project) -> Dict[str, Crate]:
    """Every path dependency reachable from the crate (normal, dev and build, any platform)."""
    meta = project.cargo_metadata
    by_manifest = {Path(p["manifest_path"]): p for p in meta.get("packages", [])}
    ws_root = project.workspace_root
    found: Dict[str, Crate] = {}
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
            dep_package = by_manifest.get(manifest) or package_of(manifest, project)
            same_ws = ws_root in manifest.parents
            dep_ws = (
                ws_root if same_ws else Path(metadata_no_deps(manifest, project)["workspace_root"])
            )
            found[name] = Crate(name, manifest, dep_ws, dep_package)
            stack.append(dep_package)
    return found


def metadata_no_deps(manifest: Path, project: Project) -> Mapping[str, Any]:
    flags = ["--no-deps", *project.cargo_flags()]
    return cargo.metadata(manifest, flags=flags)


def package_of(manifest: Path, project: Project) -> Mapping[str, Any]:
    """The metadata entry of a path dependency the platform-filtered resolve left out."""
    for package in metadata_no_deps(manifest, project).get("packages", []):
        if Path(package["manifest_path"]) == manifest:
            return package  # type: ignore[no-any-return]
    raise ProjectError(f"`cargo metadata` does not describe the package at {manifest}.", manifest)


def missing_path_dependency(manifest: Path) -> Optional[ProjectError]:
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
        for table_name, name, spec in dependency_specs(doc):
            base = current.parent
            if spec.get("workspace") is True:
                ws = workspace_manifest(current)
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


def dependency_specs(doc: Mapping[str, Any]) -> Iterator[Tuple[str, str, Any]]:
    """(table, name, spec) for every dependency, platform-specific ones included."""
    tables: List[Tuple[str, Any]] = [(t, doc.get(t)) for t in DEP_TABLES]
    for cfg, body in (doc.get("target") or {}).items():
        if isinstance(body, dict):
            tables += [(f"target.{cfg}.{t}", body.get(t)) for t in DEP_TABLES]
    for table_name, table in tables:
        if isinstance(table, dict):
            for name, spec in table.items():
                yield table_name, name, spec


def workspace_manifest(manifest: Path) -> Optional[Path]:
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


def compute_layout(project: Project, deps: Mapping[str, Crate]) -> Layout:
    """The sdist root: the common folder of the workspace, pyproject, path deps and Python sources."""
    assert project.pyproject_path is not None
    pyproject_dir = project.pyproject_path.parent
    # a python-source outside the pyproject folder ("../python") widens the root to hold it
    python_dir = Path(os.path.normpath(project.python_source))
    folders = [project.workspace_root, pyproject_dir, *(c.manifest.parent for c in deps.values())]
    folders.append(python_dir)
    root = Path(os.path.commonpath([str(f) for f in folders]))
    return Layout(
        sdist_root=root,
        pyproject_dir=pyproject_dir,
        main_dir=project.manifest_path.parent,
        workspace_root=project.workspace_root,
        python_dir=python_dir,
    )
