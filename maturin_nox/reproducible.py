"""Builds that give the same bytes wherever the sources are: what the release gate compares.

A wheel built from the checkout and one built from the unpacked sdist are byte
for byte the same when nothing of their locations reaches them. The compiled
library is the only part that could hold one: rustc writes source paths into
panic messages and debug information, and a build script's ``OUT_DIR`` lies in
the target directory. A reproducible build therefore gives the crate's rustc
``--remap-path-prefix`` for the sdist root (the folder the sdist's top folder
stands for: ``<name>-<version>``) and the target directory (``target``); the
archives get fixed timestamps (the last commit's time, or SOURCE_DATE_EPOCH),
sorted entries and fixed permissions, as every maturin-nox wheel and sdist does.

What must also hold: the same Rust toolchain and the same locked dependencies
(``Cargo.lock``), and dependencies from the same registry folder
(``$CARGO_HOME``), whose paths are not remapped; build scripts that write the
time or the machine's name into the library make it differ, which is what the
gate is there to find.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional, Tuple

from .project import Project

__all__ = ["last_commit_time", "remap_args", "sdist_root", "top_name"]


def sdist_root(project: Project) -> Path:
    """The folder an sdist of the project has at its top (its files keep their places below it)."""
    if project.pyproject_path is None:
        return project.workspace_root
    from .sdist.crates import compute_layout, path_dependencies

    return compute_layout(project, path_dependencies(project)).sdist_root


def top_name(project: Project) -> str:
    """The name of the sdist's top folder: the stand-in for the source location."""
    from .wheel import escape_name

    return f"{escape_name(project.name)}-{project.version.replace('-', '_')}"


def remap_args(project: Project, target_root: Path) -> Tuple[str, ...]:
    """rustc's arguments mapping this location's source and target roots to fixed names.

    rustc applies the last matching remap, so the target root, often inside the
    source root, comes last.
    """
    source = sdist_root(project)
    return (
        f"--remap-path-prefix={source}={top_name(project)}",
        f"--remap-path-prefix={target_root}=target",
    )


def last_commit_time(folder: Path) -> Optional[int]:
    """The commit time of the last commit of the git work tree holding ``folder``, if any."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(folder), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    text = proc.stdout.strip()
    return int(text) if proc.returncode == 0 and text.isdigit() else None
