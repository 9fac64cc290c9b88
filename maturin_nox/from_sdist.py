"""Wheels built from the project's own sdist: ``maturin-nox build --sdist``, as maturin 1.16.

The sdist is written, unpacked into a clean temporary folder and the wheels
are built from that copy, so a file the sdist misses fails here and not on a
user's machine. The wheels land where a plain build puts them (``--out``, else
the project's ``target/wheels``, beside the sdist); cargo builds in the
project's target directory, so the dependencies compiled for the checkout are
reused and only the crates of the unpacked copy compile again.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import List, Optional, Tuple

from .builder import BuiltWheel, build, open_project
from .errors import BuildError
from .options import BuildOptions
from .project import Project
from .toml import load_toml

__all__ = ["SdistBuild", "build_from_sdist", "manifest_of", "unpack_sdist"]

log = logging.getLogger("maturin_nox")


@dataclass(frozen=True)
class SdistBuild:
    """The sdist and the wheels built from it."""

    sdist: Path
    wheels: Tuple[BuiltWheel, ...]


def _safe_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise BuildError(f"{archive} holds an unsafe path {name!r}; not unpacking it.")
    return path


def unpack_sdist(archive: Path, into: Path) -> Path:
    """Unpack an sdist's regular files and folders into ``into``; its one top folder.

    Links, devices and names that would leave ``into`` are refused.
    """
    tops: List[str] = []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                rel = _safe_name(archive, member.name)
                dest = into.joinpath(*rel.parts)
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file has data
                    with source, open(dest, "wb") as out:
                        shutil.copyfileobj(source, out)
                    dest.chmod(0o755 if member.mode & 0o111 else 0o644)
                else:
                    raise BuildError(
                        f"{archive} holds {member.name!r}, which is not a regular file or folder."
                    )
                if rel.parts[0] not in tops:
                    tops.append(rel.parts[0])
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BuildError(f"Cannot unpack {archive}: {exc}.") from None
    if len(tops) != 1 or not (into / tops[0]).is_dir():
        raise BuildError(f"{archive} must hold exactly one top folder, not {len(tops)}.")
    return into / tops[0]


def manifest_of(top: Path) -> Path:
    """The Cargo.toml of an unpacked sdist: tool.maturin.manifest-path, else the top one."""
    pyproject = top / "pyproject.toml"
    rel = None
    if pyproject.is_file():
        rel = load_toml(pyproject).get("tool", {}).get("maturin", {}).get("manifest-path")
    manifest = top / rel if isinstance(rel, str) else top / "Cargo.toml"
    if not manifest.is_file():
        raise BuildError(f"The sdist has no {manifest.relative_to(top)} to build the wheels from.")
    return manifest


def build_from_sdist(options: BuildOptions, project: Optional[Project] = None) -> SdistBuild:
    """Build the sdist, then the wheels from it (unpacked in a clean folder)."""
    from .sdist import build_sdist

    project = project or open_project(options)
    cwd = (options.cwd or Path.cwd()).resolve()
    out_dir = (cwd / options.out_dir) if options.out_dir else project.target_directory / "wheels"
    target_dir = (cwd / options.target_dir) if options.target_dir else project.target_directory
    sdist = build_sdist(out_dir=out_dir, cwd=cwd, project=project)
    with tempfile.TemporaryDirectory(prefix="maturin-nox-sdist-") as tmp:
        top = unpack_sdist(sdist, Path(tmp))
        manifest = manifest_of(top)
        log.info(f"📦 Building wheels from the source distribution at {manifest.parent}")
        unpacked = dataclasses.replace(
            options,
            manifest_path=manifest,
            cwd=top,
            out_dir=out_dir.resolve(),
            target_dir=target_dir.resolve(),
        )
        wheels = build(unpacked)
    return SdistBuild(sdist, tuple(wheels))
