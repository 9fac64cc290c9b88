"""Manifests rewritten for an sdist, only where their meaning must change: workspace members
pruned to what the archive holds, readme and license paths moved beside the manifest,
workspace-inherited fields inlined when the workspace root stays outside the archive."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..common import Source
from ..globs import is_glob, member_glob_match
from ..toml import dumps_toml, loads_toml
from .crates import DEP_TABLES

__all__ = [
    "inline_workspace_fields",
    "prune_members",
    "resolved_dependency",
    "rewritten",
    "set_package_fields",
]


def rewritten(path: Path, edit: Any) -> Source:
    """The file itself when ``edit`` leaves its TOML unchanged, else the rewritten TOML."""
    original = loads_toml(path.read_text(encoding="utf-8"), path)
    doc = copy.deepcopy(original)
    edit(doc)
    if doc == original:
        return path
    return dumps_toml(doc).encode("utf-8")


def set_package_fields(doc: Dict[str, Any], fields: Mapping[str, str]) -> None:
    if fields and isinstance(doc.get("package"), dict):
        doc["package"].update(fields)


def prune_members(doc: Dict[str, Any], manifest: Path, deps: Any, keep: Sequence[str]) -> None:
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
        and (m in wanted or (is_glob(m) and any(member_glob_match(m, w) for w in wanted)))
    ]
    if new:
        workspace["members"] = new
    else:
        workspace.pop("members")
        if not workspace and not keep:
            del doc["workspace"]


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


def inline_workspace_fields(
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
    tables: List[Any] = [doc.get(t) for t in DEP_TABLES]
    for cfg, body in (doc.get("target") or {}).items():
        if isinstance(body, dict):
            tables += [(body.get(t), cfg) for t in DEP_TABLES]
    for item in tables:
        table, cfg = item if isinstance(item, tuple) else (item, None)
        if not isinstance(table, dict):
            continue
        for name, spec in list(table.items()):
            if _inherited(spec):
                resolved_dep = resolved_dependency(package, name, cfg, manifest_dir)
                if resolved_dep is not None:
                    table[name] = resolved_dep


def resolved_dependency(
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
