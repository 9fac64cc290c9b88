"""The project: where its manifests are, what it binds, what its module is called.

``load_project`` reads ``pyproject.toml`` and runs ``cargo metadata`` once; the
resulting :class:`Project` is plain data that every later step reads.
"""

from __future__ import annotations

import keyword
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from . import cargo
from .config import BINDINGS, ConditionalFeature, MaturinConfig
from .crate_graph import crate_dependencies, platform_of
from .errors import ConfigError, ProjectError
from .metadata import CoreMetadata, resolve_metadata
from .stable_abi import PYO3_CRATES, crate_stable_abis
from .toml import load_toml

__all__ = ["Bindings", "Project", "load_project", "locate_manifests"]

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
    """What kind of Python module the crate makes, and whether it targets a stable ABI.

    ``abi3``/``abi3_min`` are what the crate's own features select before any
    interpreter is known (maturin's default: ``abi3``, else ``abi3t``); the plan
    picks the stable ABI of a build from ``crate_features`` and its interpreters
    (:mod:`maturin_nox.stable_abi`). ``crate_features`` holds the bindings
    crates (pyo3, pyo3-ffi, cpython, uniffi) in the crate's own graph, with the
    features the crate's build turns on.
    """

    kind: str
    abi3: bool = False
    abi3_min: Optional[Tuple[int, int]] = None
    crate_features: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    def features_of(self) -> Dict[str, Tuple[str, ...]]:
        """The bindings crates of the crate's graph and their features."""
        return dict(self.crate_features)

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
    # --frozen/--locked/--offline/--config/-Z, from the flags and tool.maturin, for every cargo call
    shared_cargo_flags: Tuple[str, ...] = ()
    target: Optional[str] = None  # the target triple asked for (None: the host's)
    # features for some interpreters only (tool.maturin.features tables); the plan applies them
    conditional_features: Tuple[ConditionalFeature, ...] = ()

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
        """Flags shared by every cargo call: --frozen, --locked, --offline, --config, -Z."""
        return list(self.shared_cargo_flags)


def _lib_target(package: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    lib_kinds = {"lib", "cdylib", "rlib", "dylib", "staticlib"}
    for target in package.get("targets", []):
        if lib_kinds & set(target.get("kind", [])):
            return target  # type: ignore[no-any-return]
    return None


def locate_manifests(
    manifest_path: Optional[Path] = None, cwd: Optional[Path] = None
) -> Tuple[Path, Optional[Path]]:
    """Find the crate's Cargo.toml and the pyproject.toml that goes with it, as maturin does.

    With ``-m``, the pyproject.toml is the first one found from the manifest's
    folder upwards, up to the folder holding the cargo workspace root. Without
    it: ``./pyproject.toml``'s ``manifest-path``, else the ``maturin new --src``
    layout (``rust/Cargo.toml`` beside ``src/<package>/__init__.py``), else
    ``./Cargo.toml``.
    """
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
            rel = _maturin_table(pyproject).get("manifest-path")
            if isinstance(rel, str) and "package" not in load_toml(manifest):
                return locate_manifests(None, manifest.parent)
        return manifest, pyproject
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _maturin_table(pyproject)
        rel = table.get("manifest-path")
        if isinstance(rel, str):
            manifest = (cwd / rel).resolve()
            if not manifest.is_file():
                raise ConfigError(
                    f"{pyproject}: tool.maturin.manifest-path points at {manifest}, which does not exist.",
                    pyproject,
                    "tool.maturin.manifest-path",
                )
            return manifest, pyproject
        src_layout = cwd / "rust" / "Cargo.toml"
        if src_layout.is_file() and (
            table.get("python-source") is not None or _src_packages(cwd, load_toml(pyproject))
        ):
            log.debug("Python-first src layout: building %s", src_layout)
            return src_layout, pyproject
    manifest = cwd / "Cargo.toml"
    if not manifest.is_file():
        raise ProjectError(
            f"No Cargo.toml in {cwd} (nor rust/Cargo.toml beside src/<package>/__init__.py): "
            "run maturin-nox in a Rust project or pass -m/--manifest-path.",
            manifest,
        )
    return manifest, pyproject if pyproject.is_file() else None


def _maturin_table(pyproject: Path) -> Mapping[str, Any]:
    tool = load_toml(pyproject).get("tool", {})
    table = tool.get("maturin", {}) if isinstance(tool, dict) else {}
    return table if isinstance(table, dict) else {}


def _src_packages(root: Path, pyproject: Mapping[str, Any]) -> bool:
    """Whether ``src/`` holds the project's package (or a python-packages entry): the src layout."""
    project = pyproject.get("project", {})
    name = project.get("name") if isinstance(project, dict) else None
    if not isinstance(name, str):
        return False
    tool = pyproject.get("tool", {})
    table = tool.get("maturin", {}) if isinstance(tool, dict) else {}
    packages = table.get("python-packages", []) if isinstance(table, dict) else []
    names = [name.replace("-", "_")]
    names += [p for p in packages if isinstance(p, str)] if isinstance(packages, list) else []
    return any((root / "src" / n / "__init__.py").is_file() for n in names)


def _workspace_root(manifest: Path) -> Path:
    """The folder of the cargo workspace root the manifest belongs to (its own when alone).

    Read from the manifests as cargo finds it (``package.workspace``, else the
    nearest ``[workspace]`` above that does not exclude the crate), without
    running cargo: the pyproject.toml search needs it before ``cargo metadata``.
    """
    data = load_toml(manifest)
    if isinstance(data.get("workspace"), dict):
        return manifest.parent
    package = data.get("package", {})
    explicit = package.get("workspace") if isinstance(package, dict) else None
    if isinstance(explicit, str):
        return (manifest.parent / explicit).resolve()
    for folder in manifest.parent.parents:
        candidate = folder / "Cargo.toml"
        if not candidate.is_file():
            continue
        try:
            workspace = load_toml(candidate).get("workspace")
        except ProjectError:
            continue
        if not isinstance(workspace, dict):
            continue
        excluded = workspace.get("exclude", [])
        for entry in excluded if isinstance(excluded, list) else []:
            if isinstance(entry, str) and (
                manifest.parent == (folder / entry).resolve()
                or (folder / entry).resolve() in manifest.parent.parents
            ):
                return manifest.parent
        return folder
    return manifest.parent


def _pyproject_for(manifest: Path) -> Optional[Path]:
    """maturin's search: the first pyproject.toml from the manifest's folder up to the
    folder that holds the workspace root (so a crate in ``rust/`` finds ``./pyproject.toml``)."""
    limit = _workspace_root(manifest).parent
    for folder in (manifest.parent, *manifest.parent.parents):
        if folder != limit and limit not in folder.parents:
            break
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            log.debug("Found pyproject.toml at %s", candidate)
            return candidate
    return None


def load_project(
    manifest_path: Optional[Path] = None,
    *,
    cwd: Optional[Path] = None,
    bindings: Optional[str] = None,
    features: Sequence[str] = (),
    all_features: bool = False,
    no_default_features: bool = False,
    target: Optional[str] = None,
    frozen: bool = False,
    locked: bool = False,
    offline: bool = False,
    config: Sequence[str] = (),
    unstable_flags: Sequence[str] = (),
) -> Project:
    """Read the manifests and cargo metadata into a :class:`Project`.

    The cargo flags given here meet ``[tool.maturin]`` as in maturin: features,
    ``config`` and ``unstable-flags`` given here replace the table's, the
    switches (all-features, no-default-features, frozen, locked, offline) add to
    it. The target is ``target``, else ``$CARGO_BUILD_TARGET`` (``[tool.maturin] target`` is
    maturin's per-target tables, never the triple).
    """
    manifest, pyproject_path = locate_manifests(manifest_path, cwd)
    pyproject: Optional[Dict[str, Any]] = None
    table = MaturinConfig()
    if pyproject_path is not None:
        pyproject = load_toml(pyproject_path)
        table = MaturinConfig.from_pyproject(pyproject, pyproject_path)
    root = pyproject_path.parent if pyproject_path else manifest.parent
    if bindings is not None and bindings not in BINDINGS:
        raise ConfigError(
            f"Unknown bindings {bindings!r} (from -b/--bindings); use one of {', '.join(BINDINGS)}.",
            key="bindings",
        )
    # as maturin: features given here replace the table's (its conditional ones too)
    chosen = list(_split_features(features)) if features else list(table.features)
    all_feats = tuple(dict.fromkeys(chosen))
    conditional = () if features else table.conditional_features
    all_features = all_features or table.all_features
    no_default_features = no_default_features or table.no_default_features
    flags = _cargo_flags(
        frozen=frozen or table.frozen,
        locked=locked or table.locked,
        offline=offline or table.offline,
        config=tuple(config) or table.config,
        unstable_flags=tuple(unstable_flags) or table.unstable_flags,
    )
    # [tool.maturin] target is per-target tables (config.TargetConfig), never the triple
    triple = target or os.environ.get("CARGO_BUILD_TARGET") or None
    meta = cargo.metadata(
        manifest,
        features=all_feats,
        all_features=all_features,
        no_default_features=no_default_features,
        flags=flags,
        filter_platform=triple,  # as maturin: every platform's graph unless a target is named
    )
    package = _find_package(meta, manifest)
    raw_manifest = load_toml(manifest)
    detected = _detect_bindings(
        meta,
        package,
        bindings or table.bindings,
        manifest,
        pyproject_path,
        features=all_feats,
        all_features=all_features,
        no_default_features=no_default_features,
        triple=triple,
    )
    module_name = _module_name(
        table, raw_manifest, pyproject, package, detected.kind, manifest, pyproject_path
    )
    python_source, mixed = _python_source(root, table, module_name, pyproject_path, pyproject)
    core = resolve_metadata(cargo_package=package, pyproject=pyproject, project_root=root)
    return Project(
        root=root,
        pyproject_path=pyproject_path,
        pyproject=pyproject,
        manifest_path=manifest,
        config=table,
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
        shared_cargo_flags=tuple(flags),
        target=triple,
        conditional_features=conditional,
    )


def _cargo_flags(
    *,
    frozen: bool,
    locked: bool,
    offline: bool,
    config: Sequence[str],
    unstable_flags: Sequence[str],
) -> List[str]:
    """The flags every cargo call of the project gets (``cargo metadata`` included)."""
    flags = [
        name
        for name, on in (("--frozen", frozen), ("--locked", locked), ("--offline", offline))
        if on
    ]
    for cfg in config:
        flags += ["--config", cfg]
    for flag in unstable_flags:
        flags += ["-Z", flag]
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


def _detect_bindings(
    meta: Mapping[str, Any],
    package: Mapping[str, Any],
    requested: Optional[str],
    manifest: Path,
    pyproject_path: Optional[Path],
    *,
    features: Sequence[str] = (),
    all_features: bool = False,
    no_default_features: bool = False,
    triple: Optional[str] = None,
) -> Bindings:
    """The bindings kind, from the crate's own graph (not the workspace's unified one)."""
    deps = crate_dependencies(
        meta,
        str(package["id"]),
        features=features,
        all_features=all_features,
        no_default_features=no_default_features,
        # the target's cfg values, asked only if a platform-specific dependency needs them
        platform=platform_of(triple),
    )
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
    crates = tuple((c, tuple(deps[c])) for c, _ in _BINDING_CRATES if c in deps)
    abi3t, abi3 = crate_stable_abis({c: deps[c] for c in PYO3_CRATES if c in deps})
    default = (abi3 or abi3t) if kind in ("pyo3", "pyo3-ffi") else None
    if default is None:
        return Bindings(kind, crate_features=crates)
    return Bindings(kind, True, default.min_version, crates)


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
    root: Path,
    config: MaturinConfig,
    module_name: str,
    pyproject_path: Optional[Path],
    pyproject: Optional[Mapping[str, Any]] = None,
) -> Tuple[Path, bool]:
    """The folder holding the Python package, and whether the project is mixed (maturin's rules).

    ``python-source`` when set (normalised: ``../python`` is the folder beside the
    project); else ``src/`` in the ``maturin new --src`` layout; else the project root.
    A folder named after the module that holds a Cargo.toml and no ``__init__.py`` is
    a crate, not a Python package.
    """
    if config.python_source:
        source = Path(os.path.normpath(root / config.python_source))
        if not source.is_dir():
            raise ConfigError(
                f"{pyproject_path}: tool.maturin.python-source is {config.python_source!r}, but {source} does not exist.",
                pyproject_path,
                "tool.maturin.python-source",
            )
    elif (
        pyproject is not None
        and (root / "rust" / "Cargo.toml").is_file()
        and _src_packages(root, pyproject)
    ):
        source = root / "src"
    else:
        source = root
    top = source / module_name.split(".")[0]
    mixed = top.is_dir() and ((top / "__init__.py").is_file() or not (top / "Cargo.toml").is_file())
    if config.python_source and not mixed:
        # maturin refuses this too: a python-source is only set for a package in it
        raise ConfigError(
            f"{pyproject_path}: tool.maturin.python-source is {config.python_source!r}, but the "
            f"Python package {top} does not exist; create it or remove "
            "tool.maturin.python-source.",
            pyproject_path,
            "tool.maturin.python-source",
        )
    return source, mixed
