"""Core metadata from the Cargo package, mapped as maturin's ``from_cargo_toml`` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from packaging.version import InvalidVersion, Version

from .fields import (
    Fields,
    cargo_error,
    content_type,
    license_target,
    manifest_of,
    normalize_path,
    read_text,
    single_line,
)

__all__ = ["from_cargo"]


def from_cargo(package: Mapping[str, Any]) -> Fields:
    """Map Cargo package fields onto core metadata the way maturin's from_cargo_toml does."""
    manifest_dir = manifest_of(package)
    raw_version = str(package.get("version", ""))
    try:
        version = str(Version(raw_version))
    except InvalidVersion:
        raise cargo_error(
            package,
            "version",
            f"{raw_version!r} is not a valid PEP 440 version (Rust's SemVer pre-releases must "
            "look like 1.0.0-alpha.1, 1.0.0-beta.2 or 1.0.0-rc.1)",
        ) from None
    fields = Fields(name=str(package["name"]), version=version)
    description = package.get("description")
    if description:
        fields.summary = single_line(str(description))
    authors = [str(a) for a in package.get("authors") or []]
    if authors:
        # Cargo has one authors list; maturin repeats it as Author-email when it holds an address.
        fields.author = ", ".join(authors)
        if "@" in fields.author:
            fields.author_email = fields.author
    keywords = package.get("keywords") or []
    if keywords:
        fields.keywords = ",".join(str(k) for k in keywords)
    fields.license = package.get("license") or None
    fields.home_page = package.get("homepage") or None
    for label, key in (
        ("Homepage", "homepage"),
        ("Documentation", "documentation"),
        ("Source Code", "repository"),
    ):
        if package.get(key):
            fields.project_urls[label] = str(package[key])
    _cargo_readme(fields, package, manifest_dir)
    license_file = package.get("license_file")
    if license_file:
        source = normalize_path(manifest_dir / str(license_file))
        if not source.is_file():
            raise cargo_error(package, "license-file", f"{license_file!r} is not a file")
        fields.add_license_file(license_target(normalize_path(manifest_dir), source), source)
    return fields


def _cargo_readme(fields: Fields, package: Mapping[str, Any], manifest_dir: Path) -> None:
    """Read Cargo's readme, or guess README.md/.txt/.rst/README as maturin does."""
    readme = package.get("readme")
    if readme in (False, "false"):
        return
    if readme:
        path = manifest_dir / str(readme)
        fields.description = read_text(path, f"{manifest_dir / 'Cargo.toml'}: package.readme")
        fields.description_content_type = content_type(path)
        return
    for guess in ("README.md", "README.txt", "README.rst", "README"):
        path = manifest_dir / guess
        if path.exists():
            fields.description = read_text(path, f"{manifest_dir / 'Cargo.toml'}: readme")
            fields.description_content_type = content_type(path)
            return
