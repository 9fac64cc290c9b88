"""A CycloneDX 1.5 SBOM of the crate's Rust dependency tree (PEP 770), as
maturin 1.16 puts into ``.dist-info/sboms/<crate>.cyclonedx.json``.

The components are maturin's: the graph of the project's ``cargo metadata``, which
is read, as maturin reads it, without ``--filter-platform`` unless a target is
named, so dependencies of other platforms (``portable-atomic``, ``windows-sys``,
...) are listed too (what counts for the build itself is decided by
:func:`maturin_nox.project.reachable_dependencies`). Checksums come from
Cargo.lock. Deterministic: no timestamp unless ``SOURCE_DATE_EPOCH`` is set, a
serial number derived from the crate's package id.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Set

from .toml import load_toml

if TYPE_CHECKING:
    from .project import Project

__all__ = ["rust_sbom", "sbom_filename"]


def sbom_filename(project: Project) -> str:
    """The SBOM's file name inside ``sboms/``."""
    return f"{project.crate_name}.cyclonedx.json"


def _checksums(workspace_root: Path) -> Dict[str, str]:
    lock = workspace_root / "Cargo.lock"
    if not lock.is_file():
        return {}
    data = load_toml(lock)
    return {
        f"{p['name']}@{p['version']}": p["checksum"]
        for p in data.get("package", [])
        if isinstance(p, dict) and "checksum" in p
    }


def _spdx(expression: str) -> str:
    """A license as cargo-cyclonedx writes it: cargo's old ``MIT/Apache-2.0`` means OR."""
    if "/" in expression:
        return " OR ".join(part.strip() for part in expression.split("/"))
    return expression


def _purl(package: Mapping[str, Any], root: Path, workspace: Path) -> str:
    """A local package's purl points at its folder: relative to the crate inside the
    workspace, absolute outside it (as cargo-cyclonedx writes it)."""
    base = f"pkg:cargo/{package['name']}@{package['version']}"
    if package.get("source") is None:
        folder = Path(package["manifest_path"]).parent
        inside = folder == workspace or workspace in folder.parents
        where = os.path.relpath(folder, root) if inside else folder.as_posix()
        return f"{base}?download_url=file://{where}"
    return base


def _component(
    package: Mapping[str, Any], scope: str, sums: Dict[str, str], root: Path, workspace: Path
) -> Dict[str, Any]:
    comp: Dict[str, Any] = {"type": "library", "bom-ref": package["id"]}
    if package.get("authors"):
        comp["author"] = ", ".join(package["authors"])
    comp["name"] = package["name"]
    comp["version"] = package["version"]
    if package.get("description"):
        comp["description"] = package["description"].replace("\n", " ")
    comp["scope"] = scope
    checksum = sums.get(f"{package['name']}@{package['version']}")
    if checksum:
        comp["hashes"] = [{"alg": "SHA-256", "content": checksum}]
    if package.get("license"):
        comp["licenses"] = [{"expression": _spdx(str(package["license"]))}]
    comp["purl"] = _purl(package, root, workspace)
    refs = [
        (kind, package.get(key))
        for kind, key in (
            ("documentation", "documentation"),
            ("website", "homepage"),
            ("vcs", "repository"),
        )
    ]
    if package.get("links"):
        refs.insert(2, ("other", package["links"]))
    refs_out = [{"type": kind, "url": url} for kind, url in refs if url]
    if refs_out:
        comp["externalReferences"] = refs_out
    return comp


def rust_sbom(project: Project) -> str:
    """The SBOM's JSON text."""
    meta = project.cargo_metadata
    packages = {p["id"]: p for p in meta.get("packages", [])}
    nodes = {n["id"]: n for n in (meta.get("resolve") or {}).get("nodes", [])}
    root_id = project.package["id"]
    required: Set[str] = set()
    stack = [root_id]
    while stack:
        node_id = stack.pop()
        if node_id in required or node_id not in nodes:
            continue
        required.add(node_id)
        for dep in nodes[node_id].get("deps", []):
            if any(k.get("kind") is None for k in dep.get("dep_kinds", [])):
                stack.append(dep["pkg"])
    # everything the build needs (build scripts' deps too), but not dev-dependencies
    needed: Set[str] = set()
    stack = [root_id]
    while stack:
        node_id = stack.pop()
        if node_id in needed or node_id not in nodes:
            continue
        needed.add(node_id)
        for dep in nodes[node_id].get("deps", []):
            kinds = [k.get("kind") for k in dep.get("dep_kinds", [])]
            if node_id != root_id or any(k != "dev" for k in kinds):
                stack.append(dep["pkg"])
    sums = _checksums(project.workspace_root)
    root = project.manifest_path.parent
    ws = project.workspace_root
    components: List[Dict[str, Any]] = [
        _component(packages[i], "required" if i in required else "excluded", sums, root, ws)
        for i in sorted(needed - {root_id})  # by package id, as maturin orders them
        if i in packages
    ]
    dependencies = [
        {
            "ref": i,
            **(
                {
                    # cargo's order (by package name, then version), as maturin lists them
                    "dependsOn": list(
                        dict.fromkeys(
                            d
                            for d in nodes[i].get("dependencies")
                            or [dep["pkg"] for dep in nodes[i].get("deps", [])]
                            if d in needed
                        )
                    )
                }
                if nodes[i].get("deps")
                else {}
            ),
        }
        for i in sorted(needed)  # the crate among the rest, by package id, as maturin
        if i in nodes
    ]
    main = _component(packages[root_id], "required", sums, root, ws)
    targets = _targets(project, main)
    if any(t["type"] == "application" for t in targets):
        main["type"] = "application"
    if targets:
        main["components"] = targets
    metadata: Dict[str, Any] = {}
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        metadata["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
    metadata["tools"] = [{"vendor": "maturin-nox", "name": "maturin-nox"}]
    authors = [_person(a) for a in packages[root_id].get("authors") or []]
    if authors:
        metadata["authors"] = authors
    metadata["component"] = main
    # the graph is every platform's (no --filter-platform), as cargo-cyclonedx records it
    if project.metadata_platform is None:
        metadata["properties"] = [{"name": "cdx:rustc:sbom:target:all_targets", "value": "true"}]
    bom: Dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "serialNumber": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, root_id)),
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(bom, indent=2) + "\n"


_LIB_KINDS = {"lib", "rlib", "dylib", "cdylib", "staticlib"}


def _targets(project: Project, main: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The crate's library and binaries, as components of the crate (as cargo-cyclonedx)."""
    out: List[Dict[str, Any]] = []
    folder = project.manifest_path.parent
    for target in project.package.get("targets", []):
        kinds = set(target.get("kind", []))
        if "bin" in kinds:
            kind = "application"
        elif kinds & _LIB_KINDS:
            kind = "library"
        else:
            continue
        src = Path(str(target.get("src_path", "")))
        try:
            rel = src.relative_to(folder).as_posix()
        except ValueError:
            rel = src.as_posix()
        out.append(
            {
                "type": kind,
                "bom-ref": f"{main['bom-ref']} bin-target-{len(out)}",
                "name": target.get("name"),
                "version": main["version"],
                "purl": f"{main['purl']}#{rel}",
            }
        )
    return out


def _person(author: str) -> Dict[str, str]:
    """``"Name <mail>"`` as a CycloneDX organizational contact."""
    name, _, rest = author.partition("<")
    person = {"name": name.strip()}
    if rest.rstrip().endswith(">"):
        person["email"] = rest.rstrip()[:-1].strip()
    return person


def custom_sboms(project: Project) -> Dict[str, Path]:
    """User-provided SBOM files from ``[tool.maturin.sbom] include``, by file name."""
    out: Dict[str, Path] = {}
    for rel in project.config.sbom_include:
        path = project.root / rel
        out[path.name] = path
    return out
