"""The ``[tool.maturin]`` table: every key maturin reads, type-checked.

Older keys keep working with a deprecation warning that names the new key:
``manylinux`` (now ``compatibility``), ``skip-auditwheel = true`` (now
``auditwheel = "skip"``) and ``sdist-include`` (now ``include`` with
``format = "sdist"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from .errors import ConfigError

__all__ = ["AUDIT_MODES", "BINDINGS", "GlobPattern", "MaturinConfig"]

log = logging.getLogger("maturin_nox")

BINDINGS = ("pyo3", "pyo3-ffi", "rust-cpython", "cffi", "bin", "uniffi")
AUDIT_MODES = ("repair", "check", "warn", "skip")
_FORMATS = ("sdist", "wheel")


@dataclass(frozen=True)
class GlobPattern:
    """An ``include``/``exclude`` entry: a glob and the archive formats it applies to."""

    path: str
    formats: frozenset[str] = frozenset(_FORMATS)

    def applies_to(self, fmt: str) -> bool:
        """Whether this pattern is meant for ``sdist`` or ``wheel``."""
        return fmt in self.formats


@dataclass(frozen=True)
class MaturinConfig:
    """The parsed ``[tool.maturin]`` table (defaults where a key is absent)."""

    bindings: Optional[str] = None
    module_name: Optional[str] = None
    python_source: Optional[str] = None
    python_packages: Tuple[str, ...] = ()
    features: Tuple[str, ...] = ()
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
    exclude: Tuple[GlobPattern, ...] = ()
    data: Optional[str] = None
    frozen: bool = False
    locked: bool = False
    offline: bool = False
    target: Optional[str] = None
    unstable_flags: Tuple[str, ...] = ()
    sdist_generator: str = "cargo"
    zig: bool = False
    sbom_rust: bool = True
    sbom_include: Tuple[str, ...] = ()
    pgo_command: Optional[str] = None
    source: Optional[Path] = field(default=None, compare=False)

    @classmethod
    def from_pyproject(cls, pyproject: Mapping[str, Any], path: Path) -> MaturinConfig:
        """Read ``tool.maturin`` from a parsed pyproject.toml at ``path``."""
        tool = pyproject.get("tool", {})
        table = tool.get("maturin", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.maturin must be a table.", path, "tool.maturin")
        return _Reader(table, path).config()


class _Reader:
    """Type-checks keys one by one so each error names the key and file."""

    def __init__(self, table: Mapping[str, Any], path: Path) -> None:
        self.table = table
        self.path = path

    def _fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(
            f"{self.path}: tool.maturin.{key} {what}.", self.path, f"tool.maturin.{key}"
        )

    def text(self, key: str) -> Optional[str]:
        value = self.table.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, f"must be a string, not {value!r}")
        return value

    def flag(self, key: str) -> bool:
        value = self.table.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, not {value!r}")
        return value

    def texts(self, key: str) -> Tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            # maturin accepts a single string for args-like keys
            return tuple(value.split())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "must be a list of strings")
        return tuple(value)

    def globs(self, key: str) -> Tuple[GlobPattern, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, "must be a list of globs or {path, format} tables")
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(GlobPattern(item))
            elif isinstance(item, dict) and isinstance(item.get("path"), str):
                fmt = item.get("format", list(_FORMATS))
                fmts = [fmt] if isinstance(fmt, str) else fmt
                if not isinstance(fmts, list) or not all(f in _FORMATS for f in fmts):
                    raise self._fail(key, f'has format {fmt!r}; use "sdist" or "wheel"')
                out.append(GlobPattern(item["path"], frozenset(fmts)))
            else:
                raise self._fail(
                    key,
                    f"has an entry {item!r} that is neither a glob nor a {{path, format}} table",
                )
        return tuple(out)

    def config(self) -> MaturinConfig:
        bindings = self.text("bindings")
        if bindings is not None and bindings not in BINDINGS:
            raise self._fail(
                "bindings", f"is {bindings!r}; it must be one of {', '.join(BINDINGS)}"
            )
        compatibility = self.text("compatibility")
        if "manylinux" in self.table:
            log.warning(
                f"{self.path}: tool.maturin.manylinux is deprecated, use tool.maturin.compatibility instead."
            )
            compatibility = compatibility or self.text("manylinux")
        auditwheel = self.text("auditwheel")
        if auditwheel is not None and auditwheel not in AUDIT_MODES:
            raise self._fail(
                "auditwheel", f"is {auditwheel!r}; it must be one of {', '.join(AUDIT_MODES)}"
            )
        if "skip-auditwheel" in self.table:
            log.warning(
                f"{self.path}: tool.maturin.skip-auditwheel is deprecated, "
                'use tool.maturin.auditwheel = "skip" instead.'
            )
            if self.flag("skip-auditwheel") and auditwheel is None:
                auditwheel = "skip"
        include = self.globs("include")
        if "sdist-include" in self.table:
            log.warning(
                f"{self.path}: tool.maturin.sdist-include is deprecated, "
                'use tool.maturin.include with format = "sdist" instead.'
            )
            include += tuple(
                GlobPattern(g, frozenset({"sdist"})) for g in self.texts("sdist-include")
            )
        cargo_args = self.texts("cargo-extra-args")
        if cargo_args:
            log.warning(
                f"{self.path}: tool.maturin.cargo-extra-args is deprecated, use the dedicated keys "
                "(features, profile, ...) or pass cargo arguments after -- instead."
            )
        sbom = self.table.get("sbom", {})
        if not isinstance(sbom, dict):
            raise self._fail("sbom", "must be a table with the keys rust and include")
        sbom_rust = sbom.get("rust", True)
        sbom_include = sbom.get("include", [])
        if not isinstance(sbom_rust, bool):
            raise self._fail("sbom.rust", f"must be true or false, not {sbom_rust!r}")
        if not isinstance(sbom_include, list) or not all(isinstance(v, str) for v in sbom_include):
            raise self._fail("sbom.include", "must be a list of paths")
        sdist_generator = self.text("sdist-generator") or "cargo"
        if sdist_generator not in ("cargo", "git"):
            raise self._fail("sdist-generator", f'is {sdist_generator!r}; use "cargo" or "git"')
        return MaturinConfig(
            bindings=bindings,
            module_name=self.text("module-name"),
            python_source=self.text("python-source"),
            python_packages=self.texts("python-packages"),
            features=self.texts("features"),
            all_features=self.flag("all-features"),
            no_default_features=self.flag("no-default-features"),
            profile=self.text("profile"),
            editable_profile=self.text("editable-profile"),
            strip=self.flag("strip"),
            manifest_path=self.text("manifest-path"),
            rustc_args=self.texts("rustc-args"),
            cargo_args=cargo_args,
            config=self.texts("config"),
            compatibility=compatibility,
            auditwheel=auditwheel,
            include=include,
            exclude=self.globs("exclude"),
            data=self.text("data"),
            frozen=self.flag("frozen"),
            locked=self.flag("locked"),
            offline=self.flag("offline"),
            target=self.text("target"),
            unstable_flags=self.texts("unstable-flags"),
            sdist_generator=sdist_generator,
            zig=self.flag("zig"),
            sbom_rust=sbom_rust,
            sbom_include=tuple(sbom_include),
            pgo_command=self.text("pgo-command"),
            source=self.path,
        )
