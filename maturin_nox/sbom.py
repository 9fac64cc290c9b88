"""A CycloneDX 1.5 SBOM of the crate's Rust dependency tree (PEP 770), as
maturin 1.16 puts into ``.dist-info/sboms/<crate>.cyclonedx.json``; and the
CycloneDX 1.4 SBOM of libraries a repair grafted (``sboms/auditwheel.cdx.json``).

The components are maturin's: the graph of the project's ``cargo metadata``, which
is read, as maturin reads it, without ``--filter-platform`` unless a target is
named, so dependencies of other platforms (``portable-atomic``, ``windows-sys``,
...) are listed too (what counts for the build itself is decided by
:func:`maturin_nox.crate_graph.crate_dependencies`). Checksums come from
Cargo.lock. Deterministic: no timestamp unless ``SOURCE_DATE_EPOCH`` is set, a
serial number derived from the crate's package id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .crate_graph import reachable
from .errors import ConfigError
from .toml import load_toml

if TYPE_CHECKING:
    from .project import Project

__all__ = ["AUDITWHEEL_SBOM", "auditwheel_sbom", "rust_sbom", "sbom_filename"]

AUDITWHEEL_SBOM = "sboms/auditwheel.cdx.json"  # inside .dist-info


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


def rust_sbom(project: Project, remap: Optional[Tuple[str, str]] = None) -> str:
    """The SBOM's JSON text.

    ``remap`` (a folder, its stand-in) rewrites the location of local crates in their
    cargo ids, as a reproducible build remaps source paths, so the SBOM is the same
    wherever the project is.
    """
    meta = project.cargo_metadata
    packages = {p["id"]: p for p in meta.get("packages", [])}
    nodes = {n["id"]: n for n in (meta.get("resolve") or {}).get("nodes", [])}
    root_id = project.package["id"]
    required = reachable(
        nodes, root_id, lambda _, dep: any(k.get("kind") is None for k in dep.get("dep_kinds", []))
    )
    # everything the build needs (build scripts' deps too), but not dev-dependencies
    needed = reachable(
        nodes,
        root_id,
        lambda pid, dep: (
            pid != root_id or any(k.get("kind") != "dev" for k in dep.get("dep_kinds", []))
        ),
    )
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
    if project.target is None:
        metadata["properties"] = [{"name": "cdx:rustc:sbom:target:all_targets", "value": "true"}]
    bom: Dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "serialNumber": "urn:uuid:"
        + str(uuid.uuid5(uuid.NAMESPACE_URL, _remapped(root_id, remap))),
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    }
    return _remapped(json.dumps(bom, indent=2) + "\n", remap)


def _remapped(text: str, remap: Optional[Tuple[str, str]]) -> str:
    """``text`` with the cargo ids of local crates under the remapped folder made location-free.

    ``path+file:///abs/folder/sub#0.1.0`` becomes ``path+file:///<stand-in>/sub#name@0.1.0``:
    the folder is replaced, and the name cargo leaves out when it equals the folder's
    is spelled out, so the id does not depend on what the folder is called.
    """
    if remap is None:
        return text
    folder, stand_in = remap
    pattern = re.compile(r"path\+file://" + re.escape(folder) + r"((?:/[^#\"]*)?)#([^\"\s]+)")

    def canonical(match: re.Match[str]) -> str:
        sub, fragment = match.group(1), match.group(2)
        if "@" not in fragment:
            last = (folder + sub).rstrip("/").rsplit("/", 1)[-1]
            fragment = f"{last}@{fragment}"
        return f"path+file:///{stand_in}{sub}#{fragment}"

    return pattern.sub(canonical, text)


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


def custom_sboms(project: Project, include: Optional[Sequence[str]] = None) -> Dict[str, Path]:
    """User-provided SBOM files by file name: ``include`` (``[tool.maturin.sbom] include``
    and ``--sbom-include``), or the table's alone.

    As maturin: a relative path is the project root's and must stay inside it; an
    absolute path is taken as is; two files of one name are an error.
    """
    out: Dict[str, Path] = {}
    root = project.root.resolve()
    for rel in project.config.sbom_include if include is None else include:
        given = Path(rel)
        path = (given if given.is_absolute() else root / given).resolve()
        if not path.is_file():
            raise ConfigError(
                f"The SBOM file {rel} (tool.maturin.sbom.include or --sbom-include) does not exist "
                f"in {root}.",
                key="sbom.include",
            )
        if not given.is_absolute() and root not in path.parents:
            raise ConfigError(
                f"The SBOM file {rel} is outside the project root {root}; give an absolute path.",
                key="sbom.include",
            )
        if path.name in out:
            raise ConfigError(
                f"Two SBOM files are named {path.name} ({out[path.name]} and {path}); "
                "the files in .dist-info/sboms need different names.",
                key="sbom.include",
            )
        out[path.name] = path
    return out


def auditwheel_sbom(project: Project, grafted: Sequence[Path]) -> Optional[str]:
    """The CycloneDX SBOM of the libraries a repair grafted, by the OS packages that provided them.

    maturin 1.16 (after auditwheel) writes it to ``.dist-info/sboms/auditwheel.cdx.json``
    when a repair copied libraries and ``sbom.auditwheel`` is not false. None when no
    package manager claims any of them.
    """
    from .os_packages import purl_encode, which_provides

    found = which_provides(sorted({Path(os.path.realpath(p)) for p in grafted}))
    if not found:
        return None
    name = re.sub(r"[-_.]+", "-", project.name).lower()
    wheel_purl = f"pkg:pypi/{purl_encode(name)}@{purl_encode(project.version)}"
    root = {
        "type": "library",
        "bom-ref": wheel_purl,
        "name": name,
        "version": project.version,
        "purl": wheel_purl,
    }
    components: List[Dict[str, Any]] = [root]
    refs: List[str] = []
    for path in sorted(found):
        provided = found[path]
        # the file's path told apart components of one package, as auditwheel does
        ref = f"{provided.purl}#{hashlib.sha256(str(path).encode()).hexdigest()}"
        components.append(
            {
                "type": "library",
                "bom-ref": ref,
                "name": provided.name,
                "version": provided.version,
                "purl": provided.purl,
            }
        )
        refs.append(ref)
    from . import __version__

    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "version": 1,
        "metadata": {"component": root, "tools": [{"name": "maturin-nox", "version": __version__}]},
        "components": components,
        "dependencies": [{"ref": wheel_purl, "dependsOn": refs}, *({"ref": r} for r in refs)],
    }
    return json.dumps(bom, indent=2, sort_keys=True, ensure_ascii=False)
