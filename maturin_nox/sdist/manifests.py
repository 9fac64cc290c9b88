"""Manifests rewritten for an sdist, as maturin 1.16 rewrites them: readme and license paths
moved beside the manifest, workspace members pruned to what the archive holds, targets whose
files the archive leaves out dropped, workspace-inherited fields inlined when the workspace
root stays outside the archive. Every edit goes through :class:`TomlEdit`, so comments and
layout survive where maturin's ``toml_edit`` keeps them."""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ..common import Source
from ..errors import ProjectError
from ..globs import is_glob, member_glob_match
from .tomledit import TomlEdit

__all__ = [
    "inline_workspace_fields",
    "prune_members",
    "prune_targets",
    "resolved_dependency",
    "rewritten",
    "set_package_fields",
    "strip_to_workspace",
]

log = logging.getLogger("maturin_nox")


# Tables a workspace-root manifest keeps once its own [package] is dropped.
_WORKSPACE_TABLES = ("workspace", "patch", "replace", "profile")
_DEP_KINDS = {"dependencies": None, "dev-dependencies": "dev", "build-dependencies": "build"}


def rewritten(path: Path, edit: Callable[[TomlEdit], None]) -> Source:
    """The file itself when ``edit`` leaves its text unchanged, else the edited text."""
    doc = TomlEdit.read(path)
    edit(doc)
    return doc.text().encode("utf-8") if doc.changed() else path


def set_package_fields(doc: TomlEdit, fields: Mapping[str, str]) -> None:
    """``package.readme`` / ``package.license-file`` pointing at the copies beside the manifest."""
    for key, value in fields.items():
        if isinstance(doc.get("package"), dict):
            doc.set(("package", key), value)


def prune_members(
    doc: TomlEdit, manifest: Path, deps: Iterable[Any], keep: Sequence[str], any_deps: bool
) -> None:
    """Keep only the workspace members the sdist holds (written out again, on one line, as
    maturin does); drop ``default-members``. With no path dependency at all (``any_deps``
    false) and nothing to ``keep``, the members go, and an empty ``[workspace]`` with them."""
    workspace = doc.get("workspace")
    if not isinstance(workspace, dict):
        return
    members = workspace.get("members")
    if isinstance(members, list):
        if not any_deps and not keep:
            doc.remove(("workspace", "members"))
            if doc.get("workspace") == {}:
                doc.remove(("workspace",))
        else:
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
                doc.set(("workspace", "members"), new)
            else:
                doc.remove(("workspace", "members"))
    if isinstance(doc.get("workspace"), dict):
        doc.remove(("workspace", "default-members"))


def strip_to_workspace(doc: TomlEdit) -> None:
    """A workspace root whose own package stays out: keep only the workspace-level tables."""
    for key in [k for k in doc.data if k not in _WORKSPACE_TABLES]:
        doc.remove((key,))


# --- targets whose files the sdist leaves out ------------------------------------------

_LIB_KINDS = {"lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro"}


def prune_targets(
    doc: TomlEdit, manifest: Path, package: Mapping[str, Any], packaged: Set[str]
) -> None:
    """Drop ``[lib]``, ``[[bin]]``, ``[[example]]``, ``[[test]]``, ``[[bench]]`` entries (and
    ``package.build`` / ``package.default-run``) whose source file is not in the sdist, as
    ``cargo package`` and maturin do: cargo refuses a manifest naming a missing target file."""
    folder = manifest.parent
    targets: List[Mapping[str, Any]] = list(package.get("targets", []))

    def rel(path: str) -> str:
        p = Path(path)
        if p.is_absolute():
            try:
                p = p.relative_to(folder)
            except ValueError:
                pass
        return PurePosixPath(os.path.normpath(p.as_posix())).as_posix()

    def packaged_target(target: Mapping[str, Any]) -> bool:
        return rel(str(target.get("src_path", ""))) in packaged

    def kind_of(target: Mapping[str, Any], kind: str) -> bool:
        kinds = set(target.get("kind", []))
        return bool(kinds & _LIB_KINDS) if kind == "lib" else kind in kinds

    def find(kind: str, name: Optional[str], path: Optional[str]) -> Optional[Mapping[str, Any]]:
        for target in targets:
            if not kind_of(target, kind):
                continue
            if path is not None and rel(str(target.get("src_path", ""))) != rel(path):
                continue
            if kind == "lib" and (name is None or target.get("name") == name):
                return target
            if kind != "lib" and name is not None and target.get("name") == name:
                return target
        return None

    lib = doc.get("lib")
    if isinstance(lib, dict):
        target = find("lib", _str(lib.get("name")), _str(lib.get("path")))
        if target is not None and not packaged_target(target):
            log.debug(f"Dropping [lib] from {manifest}: its source is not in the sdist.")
            doc.remove(("lib",))
    for key in ("bin", "example", "test", "bench"):
        entries = doc.get(key)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            continue
        for index in reversed(range(len(entries))):
            entry = entries[index]
            target = find(key, _str(entry.get("name")), _str(entry.get("path")))
            if target is not None and not packaged_target(target):
                log.debug(f"Dropping [[{key}]] {entry.get('name')!r} from {manifest}.")
                doc.remove((key, index))
        if doc.get(key) == []:
            doc.remove((key,))
    table = doc.get("package")
    if not isinstance(table, dict):
        return
    build = _str(table.get("build"))
    if build is not None and any(
        "custom-build" in t.get("kind", [])
        and rel(str(t.get("src_path"))) == rel(build)
        and not packaged_target(t)
        for t in targets
    ):
        doc.remove(("package", "build"))
    default_run = _str(table.get("default-run"))
    bins = [t for t in targets if "bin" in t.get("kind", [])]
    if (
        default_run is not None
        and any(t.get("name") == default_run for t in bins)
        and not any(t.get("name") == default_run and packaged_target(t) for t in bins)
    ):
        doc.remove(("package", "default-run"))


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


# --- workspace inheritance for a crate whose workspace root stays out --------------------

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
    doc: TomlEdit, package: Mapping[str, Any], manifest: Path, workspace: TomlEdit
) -> None:
    """Replace ``field.workspace = true`` by the values cargo resolved (and what only the
    workspace manifest says: ``include``, ``exclude``, ``[workspace.lints]``, the registry of
    a ``[workspace.dependencies]`` entry), for a workspace root left out of the sdist."""
    table = doc.get("package")
    if isinstance(table, dict):
        for key in list(table):
            if not _inherited(table[key]):
                continue
            if key in _STRING_FIELDS:
                value = package.get(_STRING_FIELDS[key])
                _set_or_remove(doc, ("package", key), str(value) if value else None)
            elif key in _LIST_FIELDS:
                values = [str(v) for v in package.get(_LIST_FIELDS[key]) or []]
                _set_or_remove(doc, ("package", key), values or None)
            elif key == "publish":
                publish = package.get("publish")
                resolved = None if publish is None else (list(publish) if publish else False)
                _set_or_remove(doc, ("package", key), resolved)
            elif key in ("include", "exclude"):
                value = workspace.get("workspace", "package", key)
                if value is None:
                    raise ProjectError(
                        f"{manifest}: package.{key} is inherited from the workspace, but "
                        f"{workspace.path} has no workspace.package.{key}.",
                        manifest,
                    )
                raw = workspace.raw_value("workspace", "package", key)
                doc.set(("package", key), value, raw=raw, fresh_key=True)
            elif key in ("readme", "license-file"):
                doc.remove(("package", key))
    lints = doc.get("lints")
    if _inherited(lints):
        value = workspace.get("workspace", "lints")
        if not isinstance(value, dict):
            raise ProjectError(
                f"{manifest}: lints are inherited from the workspace, but {workspace.path} "
                "has no [workspace.lints].",
                manifest,
            )
        raw = workspace.tables_text(("workspace", "lints"), ("lints",))
        doc.set(("lints",), value, table=True, raw=raw)
    ws_deps = workspace.get("workspace", "dependencies") or {}
    tables: List[Tuple[Tuple[str, ...], Optional[str], Optional[str]]] = [
        ((name,), kind, None) for name, kind in _DEP_KINDS.items()
    ]
    for cfg, body in (doc.get("target") or {}).items():
        if isinstance(body, dict):
            tables += [(("target", cfg, name), kind, cfg) for name, kind in _DEP_KINDS.items()]
    for keys, kind, cfg in tables:
        deps = doc.get(*keys)
        if not isinstance(deps, dict):
            continue
        for name, spec in list(deps.items()):
            if not _inherited(spec):
                continue
            ws_spec = ws_deps.get(name) if isinstance(ws_deps, dict) else None
            resolved = resolved_dependency(package, name, kind, cfg, manifest.parent, ws_spec)
            if resolved is None:
                log.debug(f"{manifest}: cargo does not describe the inherited dependency {name!r}.")
            else:
                doc.set((*keys, name), resolved, fresh_key=True)


def _set_or_remove(doc: TomlEdit, keys: Tuple[str, ...], value: Any) -> None:
    """An inherited field resolved (written anew, as toml_edit's insert does), or removed."""
    if value is None:
        doc.remove(keys)
    else:
        doc.set(keys, value, fresh_key=True)


def resolved_dependency(
    package: Mapping[str, Any],
    name: str,
    kind: Optional[str],
    cfg: Optional[str],
    manifest_dir: Path,
    workspace_spec: Any = None,
) -> Optional[Any]:
    """A dependency written out from cargo's resolved view of it: a version string for a plain
    crates.io dependency, else a table (path, git source, or the workspace's registry entry)."""
    for dep in package.get("dependencies", []):
        if name not in (dep.get("rename"), dep.get("name")) or dep.get("kind") != kind:
            continue
        if cfg is not None and dep.get("target") != cfg:
            continue
        req = str(dep.get("req", "*"))
        spec: Dict[str, Any] = {}
        source = str(dep.get("source") or "")
        if dep.get("path"):
            spec["path"] = Path(os.path.relpath(dep["path"], manifest_dir)).as_posix()
            if req != "*":
                spec["version"] = req
        elif source.startswith("git+"):
            spec.update(_git_spec(source[len("git+") :]))
            if req != "*":
                spec["version"] = req
        elif dep.get("registry"):
            return _registry_spec(dep, req, workspace_spec)
        else:
            plain = (
                dep.get("uses_default_features", True)
                and not dep.get("optional")
                and not dep.get("features")
                and not dep.get("rename")
            )
            if plain:
                return req
            spec["version"] = req
        if not dep.get("uses_default_features", True):
            spec["default-features"] = False
        if dep.get("optional"):
            spec["optional"] = True
        if dep.get("features"):
            spec["features"] = list(dep["features"])
        if dep.get("rename"):
            spec["package"] = dep["name"]
        return spec
    return None


def _git_spec(url: str) -> Dict[str, str]:
    """``git``, ``branch``/``tag``/``rev`` from a cargo git source URL."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    spec = {"git": urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))}
    for key in ("branch", "tag", "rev"):
        if query.get(key):
            spec[key] = query[key][0]
    if len(spec) == 1 and parts.fragment:
        spec["rev"] = parts.fragment
    return spec


def _registry_spec(dep: Mapping[str, Any], req: str, workspace_spec: Any) -> Any:
    """The workspace's own entry (it names the registry), with what this crate resolved."""
    if not isinstance(workspace_spec, dict):
        # cargo metadata only knows the registry's index URL, which a manifest cannot name
        return req
    spec = dict(workspace_spec)
    spec["version"] = req
    if dep.get("optional"):
        spec["optional"] = True
    else:
        spec.pop("optional", None)
    if not dep.get("uses_default_features", True):
        spec["default-features"] = False
    if dep.get("features"):
        spec["features"] = list(dep["features"])
    else:
        spec.pop("features", None)
    if dep.get("rename"):
        spec["package"] = dep["name"]
    return spec
