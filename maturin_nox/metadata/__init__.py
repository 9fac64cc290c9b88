"""Core metadata of a wheel (METADATA, entry_points.txt, licenses) as maturin 1.16 builds it.

The metadata starts from the Cargo package (as ``cargo metadata`` reports it,
:mod:`.cargo_package`) and is then overridden by pyproject.toml's ``[project]``
table (:mod:`.pyproject`). Requirements are written as pep508-rs writes them
(:mod:`.requirements`), and the text is laid out field for field as maturin
writes it and checked with ``packaging.metadata`` (:mod:`.render`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from packaging.specifiers import SpecifierSet

from .cargo_package import from_cargo
from .fields import config_error, manifest_of
from .pyproject import merge_project
from .render import render_entry_points, render_metadata, validate_metadata

__all__ = ["CoreMetadata", "resolve_metadata"]


@dataclass(frozen=True)
class CoreMetadata:
    """Everything a wheel's .dist-info needs from Cargo.toml and pyproject.toml."""

    name: str
    version: str
    metadata_text: str
    entry_points_text: Optional[str]
    license_files: Tuple[Tuple[str, Path], ...]
    requires_python: Optional[SpecifierSet]
    scripts: Mapping[str, str]
    gui_scripts: Mapping[str, str]
    extras: Tuple[str, ...]

    def dist_name(self) -> str:
        """The distribution name as written (wheel.py escapes it for file names)."""
        return self.name


def resolve_metadata(
    *,
    cargo_package: Mapping[str, Any],
    pyproject: Optional[Mapping[str, Any]],
    project_root: Path,
) -> CoreMetadata:
    """Build the core metadata from a `cargo metadata` package merged with pyproject's [project]."""
    fields = from_cargo(cargo_package)
    project = pyproject.get("project") if pyproject is not None else None
    if project is not None:
        if not isinstance(project, Mapping):
            raise config_error("project", "must be a table", project_root)
        merge_project(fields, project, project_root)
    text = render_metadata(fields)
    validate_metadata(text, project_root if project is not None else manifest_of(cargo_package))
    return CoreMetadata(
        name=fields.name,
        version=fields.version,
        metadata_text=text,
        entry_points_text=render_entry_points(fields),
        license_files=tuple(fields.license_files),
        requires_python=SpecifierSet(fields.requires_python) if fields.requires_python else None,
        scripts=dict(fields.scripts),
        gui_scripts=dict(fields.gui_scripts),
        extras=tuple(fields.provides_extra),
    )
