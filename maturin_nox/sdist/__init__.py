"""Source distributions: the crate, its path dependencies and the Python sources in one .tar.gz.

The layout is maturin 1.16's. Every file keeps its place relative to the
*sdist root*, the deepest folder holding the Cargo workspace root, the
pyproject.toml, every path dependency and the Python sources, so the relative
``path = "../dep"`` entries of the manifests still work once unpacked. The
pyproject.toml always sits at the top of the archive (with ``manifest-path``
rewritten when it moved), beside ``PKG-INFO``. Each crate contributes what
``cargo package --list --allow-dirty`` lists; its manifest is edited in place as
maturin edits it (readme and license file beside the manifest, workspace members
pruned, targets whose files stay out dropped, workspace-inherited fields inlined
when the workspace root stays outside the archive): see :mod:`.manifests`.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, Mapping, Optional

from .. import faults
from ..atomic import publish_mode
from ..common import Source
from ..errors import CargoError, ConfigError, ProjectError
from ..layout import include_files
from ..project import Project, load_project, locate_manifests
from ..staging import staging_dir
from ..wheel import escape_name
from .cargo_files import cargo_files, escapes, excluded
from .crates import missing_path_dependency

__all__ = ["build_sdist", "sdist_file_list", "sdist_filename"]


log = logging.getLogger("maturin_nox")


# maturin's timestamp for sdist entries when SOURCE_DATE_EPOCH is unset.
_DEFAULT_MTIME = 1153704088


def sdist_filename(project: Project) -> str:
    """The PEP 625 file name: ``{normalized_name}-{version}.tar.gz``."""
    return f"{_base_name(project)}.tar.gz"


def _base_name(project: Project) -> str:
    return f"{escape_name(project.name)}-{project.version.replace('-', '_')}"


def build_sdist(
    manifest_path: Optional[Path] = None,
    *,
    out_dir: Optional[Path] = None,
    cwd: Optional[Path] = None,
    project: Optional[Project] = None,
    source_date_epoch: Optional[int] = None,
) -> Path:
    """Write the project's source distribution and return the .tar.gz path.

    ``source_date_epoch`` is the entries' time (else $SOURCE_DATE_EPOCH, else maturin's).
    """
    if project is None:
        project = _load(manifest_path, cwd)
    files = sdist_file_list(project)
    base = (cwd or Path.cwd()).resolve()
    out = (
        (base / out_dir) if out_dir is not None else project.target_directory / "wheels"
    ).resolve()
    with staging_dir(out) as staging:
        staged = _write_tar(
            staging / sdist_filename(project), _base_name(project), files, source_date_epoch
        )
        path = out / staged.name
        os.replace(staged, path)
    log.info(f"📦 Built source distribution to {path}")
    return path


def sdist_file_list(project: Project) -> Dict[str, Source]:
    """Every file of the sdist by path under its top folder, mapped to its source."""
    pyproject = _require_build_system(project)
    if project.config.sdist_generator == "git":
        files = _git_files(project)
    else:
        files = cargo_files(project, pyproject)
    for relpath, source in include_files(project, "sdist").items():
        if isinstance(source, Path) and escapes(source, project.root):
            log.warning(f"Not following {source} into the sdist: it points outside {project.root}.")
            continue
        files[relpath] = source
    files["PKG-INFO"] = project.metadata.metadata_text.encode("utf-8")
    return dict(sorted(files.items()))


def _load(manifest_path: Optional[Path], cwd: Optional[Path]) -> Project:
    """Load the project; a failing ``cargo metadata`` is explained if a path dependency is missing."""
    try:
        return load_project(manifest_path, cwd=cwd)
    except CargoError:
        manifest, _ = locate_manifests(manifest_path, cwd)
        missing = missing_path_dependency(manifest)
        if missing is not None:
            raise missing from None
        raise


def _require_build_system(project: Project) -> Path:
    """maturin refuses an sdist pip could not build: it needs a pyproject.toml with [build-system]."""
    if project.pyproject_path is None or project.pyproject is None:
        raise ProjectError(
            f"{project.manifest_path.parent} has no pyproject.toml, so an sdist of it could not "
            "be built by pip; add one with a [build-system] table naming the build backend.",
            project.manifest_path,
        )
    if not isinstance(project.pyproject.get("build-system"), dict):
        raise ConfigError(
            f"{project.pyproject_path} has no [build-system] table, so an sdist of it could not "
            'be built by pip; add requires = ["maturin-nox-core"] and build-backend = "maturin_nox.backend".',
            project.pyproject_path,
            "build-system",
        )
    return project.pyproject_path


def _git_files(project: Project) -> Dict[str, Source]:
    """``sdist-generator = "git"``: the files git tracks in the pyproject folder."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z"], cwd=project.root, capture_output=True, text=True
        )
    except OSError as exc:
        raise ProjectError(
            f"Cannot run `git ls-files` in {project.root}: {exc.strerror}."
        ) from None
    if proc.returncode != 0:
        raise ProjectError(
            f'`git ls-files` failed in {project.root} (tool.maturin.sdist-generator = "git"): '
            f"{proc.stderr.strip() or 'no output'}."
        )
    files: Dict[str, Source] = {}
    for entry in filter(None, proc.stdout.split("\0")):
        source = project.root / entry
        if not source.is_file() or escapes(source, project.root):
            continue
        if not excluded(project, entry, source):
            files[entry] = source
    return files


def _mtime(explicit: Optional[int] = None) -> int:
    if explicit is not None:
        return max(0, explicit)
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if not raw:
        return _DEFAULT_MTIME
    try:
        return max(0, int(raw))
    except ValueError:
        raise ProjectError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}."
        ) from None


def _write_tar(
    path: Path, top: str, files: Mapping[str, Source], source_date_epoch: Optional[int] = None
) -> Path:
    """Write a reproducible .tar.gz to a temporary file, then rename it into place."""
    mtime = _mtime(source_date_epoch)
    path.parent.mkdir(parents=True, exist_ok=True)
    # PKG-INFO first, then by path component (maturin sorts paths, not strings: "a/b" < "a-b")
    names = sorted(files, key=lambda n: (n != "PKG-INFO", n.split("/")))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0
        ) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for index, name in enumerate(names):
                if index == 1:
                    faults.point("sdist:writing")
                source = files[name]
                data = source if isinstance(source, bytes) else _read(source)
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size = len(data)
                info.mtime = mtime
                info.mode = 0o644  # as maturin: no file of an sdist is executable
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"Cannot read {path} for the sdist: {exc.strerror}.", path) from None
