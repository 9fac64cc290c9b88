"""The ``[tool.maturin]`` table: every key maturin 1.16 reads, type-checked.

Each key is read once, by name; what is left over is a key maturin does not
read, and a warning names it (file and key), as does any unknown key inside
the nested tables (``sbom``, ``target."<triple>"``, ``[[targets]]``,
``generate-ci``, the table forms of ``include`` and ``features``). A value of
the wrong type is a :class:`~maturin_nox.errors.ConfigError` naming the file
and the key. Keys that only mean something on another platform
(``include-import-lib`` on Windows, ``macos-deployment-target`` on macOS) are
read and kept, with a debug line saying they do nothing here.

Older keys keep working with a deprecation warning that names the new key:
``manylinux`` (now ``compatibility``), ``skip-auditwheel = true`` (now
``auditwheel = "skip"``), ``sdist-include`` (now ``include`` with
``format = "sdist"``) and ``cargo-extra-args``. ``offline`` and ``zig`` are
maturin-nox's own keys (maturin takes them only as flags).
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .errors import ConfigError

__all__ = [
    "AUDIT_MODES",
    "BINDINGS",
    "CI_PLATFORMS",
    "CargoTarget",
    "ConditionalFeature",
    "GitHubCI",
    "GlobPattern",
    "MaturinConfig",
    "OutDirInclude",
    "PlatformCI",
    "TargetConfig",
]

log = logging.getLogger("maturin_nox")

BINDINGS = ("pyo3", "pyo3-ffi", "rust-cpython", "cffi", "bin", "uniffi")
AUDIT_MODES = ("repair", "check", "warn", "skip")
CRATE_TYPES = ("bin", "cdylib", "dylib", "lib", "rlib", "staticlib")
CI_PLATFORMS = ("linux", "musllinux", "windows", "macos", "emscripten", "android")
_CI_OVERRIDES = (
    "runner",
    "manylinux",
    "container",
    "docker-options",
    "rust-toolchain",
    "rustup-components",
    "before-script-linux",
    "args",
)
_FORMATS = ("sdist", "wheel")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class GlobPattern:
    """An ``include``/``exclude`` entry: a glob and the archive formats it applies to."""

    path: str
    formats: frozenset[str] = frozenset(_FORMATS)

    def applies_to(self, fmt: str) -> bool:
        """Whether this pattern is meant for ``sdist`` or ``wheel``."""
        return fmt in self.formats


@dataclass(frozen=True)
class OutDirInclude:
    """``include = [{ path, from = "out-dir", to, crate-name }]``: files a build script wrote.

    ``path`` is a glob below the crate's ``OUT_DIR`` (the root crate's unless
    ``crate_name`` names another package of the build); each match goes into the
    wheel at ``to/<path below OUT_DIR>``. Wheels only, as in maturin.
    """

    path: str
    to: str
    crate_name: Optional[str] = None


@dataclass(frozen=True)
class ConditionalFeature:
    """``features = [{ feature, python-version, python-implementation }]``: a feature for some interpreters."""

    feature: str
    python_version: Optional[str] = None  # a PEP 440 specifier, checked when read
    python_implementation: Optional[str] = None  # cpython, pypy, graalpy

    def applies(self, major: int, minor: int, implementation: str) -> bool:
        """Whether the feature is on for a target interpreter (maturin compares major.minor)."""
        if self.python_version is not None and not SpecifierSet(self.python_version).contains(
            f"{major}.{minor}", prereleases=True
        ):
            return False
        impl = self.python_implementation
        return impl is None or impl.lower() == implementation.lower()


@dataclass(frozen=True)
class CargoTarget:
    """A ``[[tool.maturin.targets]]`` entry: a cargo target to build, by name (and crate type)."""

    name: str
    kind: Optional[str] = None


@dataclass(frozen=True)
class TargetConfig:
    """A ``[tool.maturin.target."<triple>"]`` table."""

    macos_deployment_target: Optional[str] = None


@dataclass(frozen=True)
class PlatformCI:
    """``[tool.maturin.generate-ci.github.<platform>]``: its targets and overrides."""

    targets: Tuple[str, ...] = ()
    target: Tuple[Mapping[str, str], ...] = ()  # [[target]] tables: arch and overrides
    overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GitHubCI:
    """``[tool.maturin.generate-ci.github]``, read by ``generate-ci github``."""

    pytest: Optional[bool] = None
    zig: Optional[bool] = None
    skip_attestation: Optional[bool] = None
    trusted_publishing: Optional[bool] = None
    publishing_environment: Optional[str] = None
    args: Optional[str] = None
    platforms: Mapping[str, PlatformCI] = field(default_factory=dict)


@dataclass(frozen=True)
class MaturinConfig:
    """The parsed ``[tool.maturin]`` table (defaults where a key is absent)."""

    bindings: Optional[str] = None
    module_name: Optional[str] = None
    python_source: Optional[str] = None
    python_packages: Tuple[str, ...] = ()
    features: Tuple[str, ...] = ()  # the plain ones
    conditional_features: Tuple[ConditionalFeature, ...] = ()
    all_features: bool = False
    no_default_features: bool = False
    profile: Optional[str] = None
    editable_profile: Optional[str] = None
    strip: bool = False
    manifest_path: Optional[str] = None
    rustc_args: Tuple[str, ...] = ()
    cargo_args: Tuple[str, ...] = ()
    config: Tuple[str, ...] = ()
    compatibility: Optional[str] = None
    auditwheel: Optional[str] = None
    include: Tuple[GlobPattern, ...] = ()
    out_dir_includes: Tuple[OutDirInclude, ...] = ()
    exclude: Tuple[GlobPattern, ...] = ()
    data: Optional[str] = None
    frozen: bool = False
    locked: bool = False
    offline: bool = False
    targets: Tuple[CargoTarget, ...] = ()  # empty: every target of the bindings kind
    target_config: Mapping[str, TargetConfig] = field(default_factory=dict)
    unstable_flags: Tuple[str, ...] = ()
    sdist_generator: str = "cargo"
    zig: bool = False
    sbom_rust: bool = True
    sbom_auditwheel: Optional[bool] = None  # None: on whenever a repair grafts libraries
    sbom_include: Tuple[str, ...] = ()
    include_import_lib: bool = False
    use_base_python: bool = False
    pgo_command: Optional[str] = None
    pgo_dependency_group: Optional[str] = None
    generate_ci: Optional[GitHubCI] = None
    source: Optional[Path] = field(default=None, compare=False)

    @classmethod
    def from_pyproject(cls, pyproject: Mapping[str, Any], path: Path) -> MaturinConfig:
        """Read ``tool.maturin`` from a parsed pyproject.toml at ``path``."""
        tool = pyproject.get("tool", {})
        table = tool.get("maturin", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.maturin must be a table.", path, "tool.maturin")
        return _read_config(_Table(table, path, "tool.maturin"))

    def macos_deployment_target(self, triple: str) -> Optional[str]:
        """``target."<triple>".macos-deployment-target``, if the table sets it."""
        config = self.target_config.get(triple)
        return config.macos_deployment_target if config else None


class _Table:
    """One TOML table being read: type-checked getters, and a warning for every key left unread."""

    def __init__(self, table: Mapping[str, Any], path: Path, prefix: str) -> None:
        self.table = table
        self.path = path
        self.prefix = prefix
        self.seen: Set[str] = set()

    def name(self, key: str) -> str:
        shown = key if _BARE_KEY.match(key) else f'"{key}"'
        return f"{self.prefix}.{shown}"

    def fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.name(key)} {what}.", self.path, self.name(key))

    def has(self, key: str) -> bool:
        return key in self.table

    def raw(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return self.table.get(key, default)

    def text(self, key: str) -> Optional[str]:
        value = self.raw(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {value!r}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def maybe_flag(self, key: str) -> Optional[bool]:
        return self.flag(key) if self.has(key) else self.raw(key)

    def texts(self, key: str, *, split: bool = True) -> Tuple[str, ...]:
        value = self.raw(key, [])
        if isinstance(value, str) and split:
            # maturin-nox accepts a single string for args-like keys
            return tuple(value.split())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def table_of(self, key: str) -> Optional[_Table]:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {value!r}")
        return _Table(value, self.path, self.name(key))

    def tables(self, key: str) -> List[_Table]:
        value = self.raw(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be an array of tables")
        return [_Table(v, self.path, f"{self.name(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        """Warn about every key nobody read: maturin does not know it, so it does nothing."""
        for key in self.table:
            if key not in self.seen:
                log.warning(
                    f"{self.path}: {self.name(key)} is not a key maturin reads; it is ignored."
                )


def _read_config(t: _Table) -> MaturinConfig:
    bindings = t.text("bindings")
    if bindings is not None and bindings not in BINDINGS:
        raise t.fail("bindings", f"is {bindings!r}; it must be one of {', '.join(BINDINGS)}")
    compatibility = t.text("compatibility")
    if t.has("manylinux"):
        log.warning(
            f"{t.path}: tool.maturin.manylinux is deprecated, use tool.maturin.compatibility instead."
        )
        compatibility = compatibility or t.text("manylinux")
    auditwheel = t.text("auditwheel")
    if auditwheel is not None and auditwheel not in AUDIT_MODES:
        raise t.fail("auditwheel", f"is {auditwheel!r}; it must be one of {', '.join(AUDIT_MODES)}")
    if t.has("skip-auditwheel"):
        log.warning(
            f"{t.path}: tool.maturin.skip-auditwheel is deprecated, "
            'use tool.maturin.auditwheel = "skip" instead.'
        )
        if t.flag("skip-auditwheel") and auditwheel is None:
            auditwheel = "skip"
    include, out_dir_includes = _globs(t, "include")
    if t.has("sdist-include"):
        log.warning(
            f"{t.path}: tool.maturin.sdist-include is deprecated, "
            'use tool.maturin.include with format = "sdist" instead.'
        )
        include += tuple(GlobPattern(g, frozenset({"sdist"})) for g in t.texts("sdist-include"))
    exclude, out_dir_excludes = _globs(t, "exclude")
    if out_dir_excludes:
        log.warning(
            f'{t.path}: tool.maturin.exclude has from = "out-dir" entries; '
            "maturin only reads those in include, so they exclude nothing."
        )
    cargo_args = t.texts("cargo-extra-args")
    if cargo_args:
        log.warning(
            f"{t.path}: tool.maturin.cargo-extra-args is deprecated, use the dedicated keys "
            "(features, profile, ...) or pass cargo arguments after -- instead."
        )
    sdist_generator = t.text("sdist-generator") or "cargo"
    if sdist_generator not in ("cargo", "git"):
        raise t.fail("sdist-generator", f'is {sdist_generator!r}; use "cargo" or "git"')
    features, conditional = _features(t)
    sbom = _sbom(t)
    include_import_lib = t.flag("include-import-lib")
    if include_import_lib and not sys.platform.startswith(("win", "cygwin")):
        log.debug(
            f"{t.path}: tool.maturin.include-import-lib only puts Windows import libraries "
            f"(.dll.lib) into wheels; it does nothing on {sys.platform}."
        )
    config = MaturinConfig(
        bindings=bindings,
        module_name=t.text("module-name"),
        python_source=t.text("python-source"),
        python_packages=t.texts("python-packages"),
        features=features,
        conditional_features=conditional,
        all_features=t.flag("all-features"),
        no_default_features=t.flag("no-default-features"),
        profile=t.text("profile"),
        editable_profile=t.text("editable-profile"),
        strip=t.flag("strip"),
        manifest_path=t.text("manifest-path"),
        rustc_args=t.texts("rustc-args"),
        cargo_args=cargo_args,
        config=t.texts("config"),
        compatibility=compatibility,
        auditwheel=auditwheel,
        include=include,
        out_dir_includes=out_dir_includes,
        exclude=exclude,
        data=t.text("data"),
        frozen=t.flag("frozen"),
        locked=t.flag("locked"),
        offline=t.flag("offline"),
        targets=_targets(t),
        target_config=_target_config(t),
        unstable_flags=t.texts("unstable-flags"),
        sdist_generator=sdist_generator,
        zig=t.flag("zig"),
        sbom_rust=sbom[0],
        sbom_auditwheel=sbom[1],
        sbom_include=sbom[2],
        include_import_lib=include_import_lib,
        use_base_python=t.flag("use-base-python"),
        pgo_command=t.text("pgo-command"),
        pgo_dependency_group=t.text("pgo-dependency-group"),
        generate_ci=_generate_ci(t),
        source=t.path,
    )
    t.done()
    return config


def _check_relative(t: _Table, key: str, value: str, what: str) -> None:
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":") or ".." in parts:
        raise t.fail(key, f"has {what} {value!r}, which must be a relative path without '..'")


def _globs(t: _Table, key: str) -> Tuple[Tuple[GlobPattern, ...], Tuple[OutDirInclude, ...]]:
    """The glob entries of ``include``/``exclude``, and the ``from = "out-dir"`` ones apart."""
    value = t.raw(key, [])
    if not isinstance(value, list):
        raise t.fail(key, "must be a list of globs or {path, format} tables")
    globs: List[GlobPattern] = []
    out_dir: List[OutDirInclude] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            globs.append(GlobPattern(item))
            continue
        entry = _Table(item, t.path, f"{t.name(key)}[{index}]") if isinstance(item, dict) else None
        if entry is None or not isinstance(item.get("path"), str):
            raise t.fail(
                key, f"has an entry {item!r} that is neither a glob nor a {{path, format}} table"
            )
        path = str(entry.text("path"))
        if entry.has("from") or entry.has("to"):
            source = entry.text("from")
            if source != "out-dir":
                raise entry.fail(
                    "from", f'is {source!r}; the only source maturin knows is "out-dir"'
                )
            to = entry.text("to")
            if to is None:
                raise entry.fail(
                    "to", 'is missing: a from = "out-dir" entry needs to = "<folder in the wheel>"'
                )
            _check_relative(entry, "path", path, "the glob")
            _check_relative(entry, "to", to, "the folder")
            # maturin's field is crate_name; its guide writes crate-name: read both
            crate = (
                entry.text("crate-name") if entry.has("crate-name") else entry.text("crate_name")
            )
            out_dir.append(OutDirInclude(path, to, crate))
        else:
            fmt = entry.raw("format", list(_FORMATS))
            fmts = [fmt] if isinstance(fmt, str) else fmt
            if not isinstance(fmts, list) or not all(f in _FORMATS for f in fmts):
                raise entry.fail("format", f'is {fmt!r}; use "sdist" or "wheel"')
            globs.append(GlobPattern(path, frozenset(fmts)))
        entry.done()
    return tuple(globs), tuple(out_dir)


def _features(t: _Table) -> Tuple[Tuple[str, ...], Tuple[ConditionalFeature, ...]]:
    """Plain feature names, and the ``{feature, python-version, python-implementation}`` tables."""
    value = t.raw("features", [])
    if isinstance(value, str):
        value = value.split()
    shape = (
        "must be a list of feature names or {feature, python-version, python-implementation} tables"
    )
    if not isinstance(value, list):
        raise t.fail("features", shape)
    plain: List[str] = []
    conditional: List[ConditionalFeature] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            plain.append(item)
            continue
        if not isinstance(item, dict):
            raise t.fail("features", f"{shape}, not {item!r}")
        entry = _Table(item, t.path, f"{t.name('features')}[{index}]")
        name = entry.text("feature")
        if name is None:
            raise entry.fail(
                "feature", 'is missing: a conditional feature needs feature = "<name>"'
            )
        spec = entry.text("python-version")
        if spec is not None:
            try:
                SpecifierSet(spec)
            except InvalidSpecifier:
                raise entry.fail(
                    "python-version", f"is {spec!r}, not a PEP 440 version specifier"
                ) from None
        impl = entry.text("python-implementation")
        entry.done()
        if spec is None and impl is None:
            plain.append(name)  # no condition: always on, as in maturin
        else:
            conditional.append(ConditionalFeature(name, spec, impl))
    return tuple(plain), tuple(conditional)


def _sbom(t: _Table) -> Tuple[bool, Optional[bool], Tuple[str, ...]]:
    sbom = t.table_of("sbom")
    if sbom is None:
        return True, None, ()
    rust = sbom.flag("rust", True)
    auditwheel = sbom.maybe_flag("auditwheel")
    include = sbom.raw("include", [])
    if not isinstance(include, list) or not all(isinstance(v, str) for v in include):
        raise sbom.fail("include", "must be a list of paths")
    sbom.done()
    return rust, auditwheel, tuple(include)


def _targets(t: _Table) -> Tuple[CargoTarget, ...]:
    out: List[CargoTarget] = []
    for entry in t.tables("targets"):
        name = entry.text("name")
        if name is None:
            raise entry.fail(
                "name", "is missing: each [[tool.maturin.targets]] names a cargo target"
            )
        kind = entry.text("kind")
        if kind is not None and kind not in CRATE_TYPES:
            raise entry.fail("kind", f"is {kind!r}; it must be one of {', '.join(CRATE_TYPES)}")
        if entry.has("bindings"):
            # maturin's own test crates write it; maturin 1.16 does not read it (a TODO there)
            entry.text("bindings")
            log.debug(
                f"{t.path}: {entry.name('bindings')} is not read by maturin 1.16; the crate's bindings apply."
            )
        entry.done()
        out.append(CargoTarget(name, kind))
    return tuple(out)


def _target_config(t: _Table) -> Dict[str, TargetConfig]:
    if t.has("target") and not isinstance(t.table["target"], dict):
        raise t.fail(
            "target",
            f"is {t.table['target']!r}, but maturin reads it as per-target tables "
            '([tool.maturin.target."<triple>"] with macos-deployment-target); '
            "the target to build for is the --target flag (or CARGO_BUILD_TARGET)",
        )
    targets = t.table_of("target")
    if targets is None:
        return {}
    out: Dict[str, TargetConfig] = {}
    for triple in list(targets.table):
        entry = targets.table_of(triple)
        if entry is None:
            continue
        if not isinstance(triple, str) or not triple:
            raise targets.fail(triple, "must be named after a target triple")
        deployment = entry.text("macos-deployment-target")
        if entry.has("macosx-deployment-target"):
            deployment = deployment or entry.text("macosx-deployment-target")
        entry.done()
        if deployment is not None and sys.platform != "darwin":
            log.debug(
                f"{t.path}: {entry.name('macos-deployment-target')} = {deployment!r} sets "
                f"MACOSX_DEPLOYMENT_TARGET and the macosx platform tag of macOS builds; "
                f"it does nothing on {sys.platform}."
            )
        out[triple] = TargetConfig(deployment)
    targets.done()
    return out


def _generate_ci(t: _Table) -> Optional[GitHubCI]:
    ci = t.table_of("generate-ci")
    if ci is None:
        return None
    github = ci.table_of("github")
    ci.done()
    if github is None:
        return GitHubCI()
    platforms: Dict[str, PlatformCI] = {}
    for name in CI_PLATFORMS:
        table = github.table_of(name)
        if table is None:
            continue
        overrides = {key: str(table.text(key)) for key in _CI_OVERRIDES if table.has(key)}
        arches: List[Mapping[str, str]] = []
        for entry in table.tables("target") if table.has("target") else []:
            arch = entry.text("arch")
            if arch is None:
                raise entry.fail("arch", "is missing: each [[target]] names its arch")
            arches.append(
                {"arch": arch, **{k: str(entry.text(k)) for k in _CI_OVERRIDES if entry.has(k)}}
            )
            entry.done()
        targets = table.texts("targets", split=False) if table.has("targets") else ()
        if targets and arches:
            raise table.fail("targets", "and [[target]] are mutually exclusive")
        if table.has("targets") and not targets:
            raise table.fail("targets", "must not be empty")
        table.done()
        platforms[name] = PlatformCI(targets, tuple(arches), overrides)
    config = GitHubCI(
        pytest=github.maybe_flag("pytest"),
        zig=github.maybe_flag("zig"),
        skip_attestation=github.maybe_flag("skip-attestation"),
        trusted_publishing=github.maybe_flag("trusted-publishing"),
        publishing_environment=github.text("publishing-environment"),
        args=github.text("args"),
        platforms=platforms,
    )
    github.done()
    return config
