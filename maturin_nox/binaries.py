"""Binaries: every ``[[bin]]`` cargo built goes to ``{dist}-{version}.data/scripts/``.

Installers copy that folder onto the environment's ``bin``/``Scripts`` path,
so the programs land on PATH. A wheel of binaries is ``py3-none-<platform>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence, Set, Tuple

from .cargo import Artifact
from .common import Source
from .errors import BuildError
from .project import Project

__all__ = ["binary_files", "executables", "links_python"]


def links_python(project: Project) -> bool:
    """Whether a binary crate embeds Python through pyo3/pyo3-ffi: its wheels are then per interpreter."""
    if project.bindings.kind != "bin":
        return False
    from .project import reachable_dependencies

    meta = getattr(project, "cargo_metadata", None)  # stand-in projects in unit tests have none
    if not meta:
        return False
    filtered = getattr(project, "metadata_platform", None) is not None
    deps = reachable_dependencies(meta, str(project.package["id"]), filtered=filtered)
    return "pyo3" in deps or "pyo3-ffi" in deps


def executables(project: Project, artifacts: Sequence[Artifact]) -> Dict[str, Path]:
    """The binaries cargo built for the project's ``[[bin]]`` targets, by file name."""
    wanted = {str(t.get("name")) for t in project.bin_targets}
    out: Dict[str, Path] = {}
    for artifact in artifacts:
        if "bin" not in artifact.kinds or artifact.target_name not in wanted:
            continue
        path: Optional[Path] = artifact.executable
        if path is None:
            continue
        out[path.name] = path
    return out


def binary_files(
    project: Project, artifacts: Sequence[Artifact], data_dir_arcname: str
) -> Tuple[Dict[str, Source], Set[str]]:
    """The binaries' archive names under ``<data dir>/scripts/`` and which of them are executable."""
    found = executables(project, artifacts)
    if not found:
        raise BuildError(
            f"cargo built no binary for {project.crate_name}; add a [[bin]] target or "
            f"src/main.rs to {project.manifest_path}."
        )
    files: Dict[str, Source] = {}
    for name in sorted(found):
        files[f"{data_dir_arcname}/scripts/{name}"] = found[name]
    return files, set(files)
