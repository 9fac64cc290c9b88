"""The project: where its manifests are, what it binds, what its module is called.

``load_project`` reads ``pyproject.toml`` and runs ``cargo metadata`` once; the
resulting :class:`Project` is plain data that every later step reads.
"""

from __future__ import annotations

import keyword
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from . import cargo
from .cfg import platform_applies
from .config import BINDINGS, MaturinConfig
from .errors import ConfigError, ProjectError
from .metadata import CoreMetadata, resolve_metadata
from .toml import load_toml

__all__ = ["Bindings", "Project", "load_project", "locate_manifests", "reachable_dependencies"]

log = logging.getLogger("maturin_nox")

# Crates whose presence in the dependency graph decides the bindings, in priority order.
_BINDING_CRATES = (
    ("pyo3", "pyo3"),
    ("pyo3-ffi", "pyo3-ffi"),
    ("cpython", "rust-cpython"),
    ("uniffi", "uniffi"),
)


@dataclass(frozen=True)
class Bindings:
    """What kind of Python module the crate makes, and whether it targets the stable ABI."""

    kind: str
    abi3: bool = False
    abi3_min: Optional[Tuple[int, int]] = None

    @property
    def needs_interpreter(self) -> bool:
        """Whether each wheel is built for a particular Python (pyo3, pyo3-ffi, rust-cpython)."""
        return self.kind in ("pyo3", "pyo3-ffi", "rust-cpython")

    @property
    def is_lib(self) -> bool:
        """Whether the crate is built as a cdylib (everything but ``bin``)."""
        return self.kind != "bin"


@dataclass(frozen=True)
class Project:
    """A maturin project on disk, resolved: manifests, config, bindings, names, metadata."""

    root: Path
    pyproject_path: Optional[Path]
    pyproject: Optional[Mapping[str, Any]]
    manifest_path: Path
    config: MaturinConfig
    cargo_metadata: Mapping[str, Any]
    package: Mapping[str, Any]
    bindings: Bindings
    module_name: str
    python_source: Path
    mixed: bool
    metadata: CoreMetadata
    features: Tuple[str, ...]
    all_features: bool
    no_default_features: bool
    metadata_platform: Optional[str] = None  # the triple `cargo metadata` was filtered by, if any

    @property
    def name(self) -> str:
        """The distribution name."""
        return self.metadata.name

    @property
    def version(self) -> str:
        """The normalized PEP 440 version."""
        return self.metadata.version

    @property
    def crate_name(self) -> str:
        """The Cargo package name."""
        return str(self.package["name"])

    @property
    def target_directory(self) -> Path:
        """Cargo's target directory for this project (honours CARGO_TARGET_DIR)."""
        return Path(self.cargo_metadata["target_directory"])

    @property
    def workspace_root(self) -> Path:
        """The Cargo workspace root (the crate folder when it has no workspace)."""
        return Path(self.cargo_metadata["workspace_root"])

    @property
    def lib_target(self) -> Optional[Mapping[str, Any]]:
        """The crate's library target, if it has one."""
        return _lib_target(self.package)

    @property
    def bin_targets(self) -> List[Mapping[str, Any]]:
        """The crate's binary targets."""
        return [t for t in self.package.get("targets", []) if "bin" in t.get("kind", [])]

    @property
    def python_package_dir(self) -> Optional[Path]:
        """The top-level Python package folder of a mixed project."""
        if not self.mixed:
            return None
        return self.python_source / self.module_name.split(".")[0]

    def cargo_flags(self) -> List[str]:
        """Flags shared by every cargo call: --locked, --frozen, --offline, --config."""
        return _cargo_flags(self.config)


def _lib_target(package: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    lib_kinds = {"lib", "cdylib", "rlib", "dylib", "staticlib"}
    for target in package.get("targets", []):
        if lib_kinds & set(target.get("kind", [])):
            return target  # type: ignore[no-any-return]
    return None


def locate_manifests(
    manifest_path: Optional[Path] = None, cwd: Optional[Path] = None
) -> Tuple[Path, Optional[Path]]:
    """Find the crate's Cargo.toml and the pyproject.toml that goes with it."""
    cwd = (cwd or Path.cwd()).resolve()
    if manifest_path is not None:
        manifest = (cwd / manifest_path).resolve()
        if manifest.is_dir():
            manifest = manifest / "Cargo.toml"
        if not manifest.is_file():
            raise ProjectError(f"{manifest} does not exist (from --manifest-path).", manifest)
        pyproject = _pyproject_for(manifest)
        if pyproject is not None and pyproject.parent == manifest.parent:
            # a workspace root whose pyproject.toml names the member to build
            rel = load_toml(pyproject).get("tool", {}).get("maturin", {}).get("manifest-path")
            if isinstance(rel, str) and "package" not in load_toml(manifest):
                return locate_manifests(None, manifest.parent)
        return manifest, pyproject
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        data = load_toml(pyproject)
        rel = data.get("tool", {}).get("maturin", {}).get("manifest-path")
        if isinstance(rel, str):
            manifest = (cwd / rel).resolve()
            if not manifest.is_file():
                raise ConfigError(
                    f"{pyproject}: tool.maturin.manifest-path points at {manifest}, which does not exist.",
                    pyproject,
                    "tool.maturin.manifest-path",
                )
            return manifest, pyproject
    manifest = cwd / "Cargo.toml"
    if not manifest.is_file():
        raise ProjectError(
            f"No Cargo.toml in {cwd}: run maturin-nox in a Rust project or pass -m/--manifest-path.",
            manifest,
        )
    return manifest, pyproject if pyproject.is_file() else None


def _pyproject_for(manifest: Path) -> Optional[Path]:
    """The pyproject.toml beside the manifest, or one above it whose manifest-path names it."""
    beside = manifest.parent / "pyproject.toml"
    if beside.is_file():
        return beside
    for folder in manifest.parent.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            rel = load_toml(candidate).get("tool", {}).get("maturin", {}).get("manifest-path")
            if isinstance(rel, str) and (folder / rel).resolve() == manifest:
                return candidate
        if (folder / ".git").exists():
            break
    return None


def load_project(
    manifest_path: Optional[Path] = None,
    *,
    cwd: Optional[Path] = None,
    bindings: Optional[str] = None,
    features: Sequence[str] = (),
    all_features: bool = False,
    no_default_features: bool = False,
) -> Project:
    """Read the manifests and cargo metadata into a :class:`Project`."""
    manifest, pyproject_path = locate_manifests(manifest_path, cwd)
    pyproject: Optional[Dict[str, Any]] = None
    config = MaturinConfig()
    if pyproject_path is not None:
        pyproject = load_toml(pyproject_path)
        config = MaturinConfig.from_pyproject(pyproject, pyproject_path)
    root = pyproject_path.parent if pyproject_path else manifest.parent
    if bindings is not None and bindings not in BINDINGS:
        raise ConfigError(
            f"Unknown bindings {bindings!r} (from -b/--bindings); use one of {', '.join(BINDINGS)}.",
            key="bindings",
        )
    all_feats = tuple(dict.fromkeys([*config.features, *_split_features(features)]))
    all_features = all_features or config.all_features
    no_default_features = no_default_features or config.no_default_features
    flags = _cargo_flags(config)
    # As maturin: every platform's graph unless a target is named (the SBOM lists it all);
    # which dependencies count for this build is decided by reachable_dependencies.
    platform = config.target or None
    meta = cargo.metadata(
        manifest,
        features=all_feats,
        all_features=all_features,
        no_default_features=no_default_features,
        flags=flags,
        filter_platform=platform,
    )
    package = _find_package(meta, manifest)
    raw_manifest = load_toml(manifest)
    detected = _detect_bindings(
        meta, package, bindings or config.bindings, manifest, pyproject_path, platform is not None
    )
    module_name = _module_name(
        config, raw_manifest, pyproject, package, detected.kind, manifest, pyproject_path
    )
    python_source, mixed = _python_source(root, config, module_name, pyproject_path)
    core = resolve_metadata(cargo_package=package, pyproject=pyproject, project_root=root)
    return Project(
        root=root,
        pyproject_path=pyproject_path,
        pyproject=pyproject,
        manifest_path=manifest,
        config=config,
        cargo_metadata=meta,
        package=package,
        bindings=detected,
        module_name=module_name,
        python_source=python_source,
        mixed=mixed,
        metadata=core,
        features=all_feats,
        all_features=all_features,
        no_default_features=no_default_features,
        metadata_platform=platform,
    )


def _cargo_flags(config: MaturinConfig) -> List[str]:
    flags = [f"--{name}" for name in ("frozen", "locked", "offline") if getattr(config, name)]
    for cfg in config.config:
        flags += ["--config", cfg]
    return flags


def _split_features(features: Sequence[str]) -> List[str]:
    out: List[str] = []
    for item in features:
        out += [f for f in item.replace(",", " ").split() if f]
    return out


def _find_package(meta: Mapping[str, Any], manifest: Path) -> Mapping[str, Any]:
    for package in meta.get("packages", []):
        if Path(package["manifest_path"]).resolve() == manifest:
            return package  # type: ignore[no-any-return]
    raise ProjectError(
        f"{manifest} is a virtual workspace manifest with no package; point --manifest-path "
        "(or tool.maturin.manifest-path) at the member crate to build.",
        manifest,
    )


def reachable_dependencies(
    meta: Mapping[str, Any], root_id: str, *, filtered: bool = False
) -> Dict[str, Mapping[str, Any]]:
    """The resolve nodes reachable from the crate through normal dependencies, by package name.

    Unless ``meta`` is already ``filtered`` by platform, a dependency declared for other
    platforms (``[target.'cfg(windows)'.dependencies]``) is not followed: it is not part of
    a build here, as ``cargo metadata --filter-platform`` would leave it out."""
    resolve = meta.get("resolve") or {}
    nodes = {n["id"]: n for n in resolve.get("nodes", [])}
    names = {p["id"]: p["name"] for p in meta.get("packages", [])}
    seen: Set[str] = set()
    stack = [root_id]
    out: Dict[str, Mapping[str, Any]] = {}
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        out.setdefault(names.get(node_id, ""), nodes[node_id])
        for dep in nodes[node_id].get("deps", []):
            kinds = dep.get("dep_kinds", [{"kind": None}])
            if any(
                k.get("kind") is None and (filtered or platform_applies(k.get("target")))
                for k in kinds
            ):
                stack.append(dep["pkg"])
    return out


def _abi3(node: Mapping[str, Any]) -> Tuple[bool, Optional[Tuple[int, int]]]:
    feats = set(node.get("features", []))
    versions = sorted(
        (int(f[len("abi3-py") :][0]), int(f[len("abi3-py") + 1 :]))
        for f in feats
        if f.startswith("abi3-py") and f[len("abi3-py") :].isdigit()
    )
    if versions:
        return True, versions[0]
    return ("abi3" in feats), None


def _detect_bindings(
    meta: Mapping[str, Any],
    package: Mapping[str, Any],
    requested: Optional[str],
    manifest: Path,
    pyproject_path: Optional[Path],
    filtered: bool,
) -> Bindings:
    deps = reachable_dependencies(meta, package["id"], filtered=filtered)
    has_lib = _lib_target(package) is not None
    has_bin = any("bin" in t.get("kind", []) for t in package.get("targets", []))
    found = next((kind for crate, kind in _BINDING_CRATES if crate in deps), None)
    kind = requested or _detected_kind(package, found, manifest)
    where = f"{pyproject_path}: tool.maturin.bindings" if pyproject_path else "-b/--bindings"
    if kind == "bin" and not has_bin:
        raise ConfigError(
            f"{manifest} has no binary target, so it cannot be built with bin bindings ({where}).",
            manifest,
            "bindings",
        )
    if kind != "bin" and not has_lib:
        raise ConfigError(
            f"{manifest} has no library target, so it cannot be built with {kind} bindings ({where}).",
            manifest,
            "bindings",
        )
    crate_for = {k: c for c, k in _BINDING_CRATES}
    if kind in crate_for and crate_for[kind] not in deps:
        raise ConfigError(
            f"{where} asks for {kind} bindings, but {manifest} does not depend on the {crate_for[kind]} crate.",
            manifest,
            "bindings",
        )
    abi3, abi3_min = False, None
    if kind in ("pyo3", "pyo3-ffi", "bin"):
        for crate in ("pyo3", "pyo3-ffi"):
            if crate in deps:
                abi3, abi3_min = _abi3(deps[crate])
                if abi3:
                    break
    if kind == "bin":
        abi3, abi3_min = False, None
    return Bindings(kind, abi3, abi3_min)


def _detected_kind(package: Mapping[str, Any], found: Optional[str], manifest: Path) -> str:
    """maturin's detection: a pyo3-like dependency wins (a crate without a cdylib but with a
    binary is then a binary embedding Python), then uniffi, then a cdylib is cffi, then
    binaries; a crate with none of these is refused, as maturin refuses it."""
    crate_types: Set[str] = set()
    for target in package.get("targets", []):
        if not set(target.get("kind", [])) & {
            "bench",
            "custom-build",
            "example",
            "proc-macro",
            "test",
        }:
            crate_types.update(target.get("crate_types", target.get("kind", [])))
    if found is not None and found != "uniffi":
        return "bin" if "cdylib" not in crate_types and "bin" in crate_types else found
    if found == "uniffi":
        return found
    if "cdylib" in crate_types:
        return "cffi"
    if "bin" in crate_types:
        return "bin"
    raise ProjectError(
        f"{manifest} has no cdylib library, no binary and none of pyo3, pyo3-ffi, cpython or "
        "uniffi among its enabled dependencies, so its bindings cannot be detected; add "
        'crate-type = ["cdylib"] to its [lib], or name the bindings with tool.maturin.bindings '
        "or -b/--bindings.",
        manifest,
    )


def _module_name(
    config: MaturinConfig,
    raw_manifest: Mapping[str, Any],
    pyproject: Optional[Mapping[str, Any]],
    package: Mapping[str, Any],
    kind: str,
    manifest: Path,
    pyproject_path: Optional[Path],
) -> str:
    """maturin's precedence, each taken as written: tool.maturin.module-name, [lib] name,
    project.name, package name. Binaries may carry any name (nothing imports it); a module
    must be importable, so a minus or a part that is not an identifier is refused."""
    name, key, where = _module_name_source(config, raw_manifest, pyproject, package)
    source = {"pyproject": pyproject_path or config.source, "manifest": manifest}[where]
    if kind == "bin":
        return name
    if "-" in name:
        raise ConfigError(
            f"The module name {name!r} (from {key} in {source}) contains a minus '-', which "
            "Python cannot import; set [lib] name in Cargo.toml or tool.maturin.module-name "
            "in pyproject.toml to a name with underscores.",
            source,
            key=key,
        )
    bad = [part for part in name.split(".") if not part.isidentifier() or keyword.iskeyword(part)]
    if bad:
        raise ConfigError(
            f"{source}: {key} gives the module name {name!r}, which Python cannot import: "
            f"{bad[0]!r} is not a Python identifier (letters, digits and underscores, "
            "not starting with a digit, not a keyword).",
            source,
            key=key,
        )
    return name


def _module_name_source(
    config: MaturinConfig,
    raw_manifest: Mapping[str, Any],
    pyproject: Optional[Mapping[str, Any]],
    package: Mapping[str, Any],
) -> Tuple[str, str, str]:
    """(module name, the key it comes from, "pyproject" or "manifest")."""
    if config.module_name:
        return config.module_name, "tool.maturin.module-name", "pyproject"
    lib = raw_manifest.get("lib", {})
    if isinstance(lib, dict) and isinstance(lib.get("name"), str):
        return str(lib["name"]), "[lib] name", "manifest"
    project = (pyproject or {}).get("project", {})
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return str(project["name"]), "project.name", "pyproject"
    return str(package["name"]), "package.name", "manifest"


def _python_source(
    root: Path, config: MaturinConfig, module_name: str, pyproject_path: Optional[Path]
) -> Tuple[Path, bool]:
    source = root / config.python_source if config.python_source else root
    if config.python_source and not source.is_dir():
        raise ConfigError(
            f"{pyproject_path}: tool.maturin.python-source is {config.python_source!r}, but {source} does not exist.",
            pyproject_path,
            "tool.maturin.python-source",
        )
    top = module_name.split(".")[0]
    mixed = (source / top).is_dir()
    if config.python_source and not mixed:
        # maturin refuses this too: a python-source is only set for a package in it
        raise ConfigError(
            f"{pyproject_path}: tool.maturin.python-source is {config.python_source!r}, but the "
            f"Python package {source / top} does not exist; create it or remove "
            "tool.maturin.python-source.",
            pyproject_path,
            "tool.maturin.python-source",
        )
    return source, mixed
