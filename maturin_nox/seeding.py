"""A cold build configuration starts from a copy of a built one, so a matrix compiles its
interpreter-independent crates once.

Each interpreter has a cargo target directory of its own (``PYO3_PYTHON``
changes cargo's fingerprints), so a first build for four interpreters would
compile syn, quote, proc-macro2, libc... four times. Instead, a configuration
whose target directory does not exist yet is seeded from a sibling that does
(of the same project, the most recently built): cargo keeps every seeded crate
that does not depend on the interpreter fresh and rebuilds only what
``PYO3_PYTHON`` reaches (pyo3-build-config, pyo3-ffi, pyo3, the crate). The
copy is a real copy (``cp --reflink=auto`` shares blocks where the filesystem
can, never inodes), so rebuilding one configuration never writes into another.
Incremental-compilation data and maturin-nox's own records are left out.

A cold matrix need not wait for the first configuration to finish: once its
interpreter-independent crates are built, :func:`seed_from_running` copies the
target directory cargo is still writing. Cargo writes a unit's fingerprint only
after its outputs are complete, so the fingerprints are copied first and the
outputs after them: every unit the copy calls fresh is whole, and a unit caught
half-way has no fingerprint in the copy and is compiled again there.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from . import faults
from .locks import exclusive
from .staging import staging_dir

__all__ = ["pick_source", "seed", "seed_from_running"]

log = logging.getLogger("maturin_nox")

# Ours, not cargo's: records that name the configuration they were made in.
_OWN_RECORDS = ("wheel-stamp.json", "audit-cache.json", "maturin-nox-run-", "uniffi-glue-")


def _built(folder: Path) -> bool:
    return (folder / "CACHEDIR.TAG").is_file() or (folder / ".rustc_info.json").is_file()


def pick_source(target_dir: Path, crate_name: str, exclude: Sequence[Path] = ()) -> Optional[Path]:
    """The most recently built sibling configuration that built this crate, if any."""
    best: Optional[Path] = None
    best_time = -1.0
    try:
        siblings = list(target_dir.parent.iterdir())
    except OSError:
        return None
    for sibling in siblings:
        if (
            sibling == target_dir
            or sibling in exclude
            or not sibling.is_dir()
            or not _built(sibling)
        ):
            continue
        owners = sibling.with_name(sibling.name + ".owners.json")
        try:
            if crate_name not in owners.read_text(encoding="utf-8"):
                continue
            mtime = owners.stat().st_mtime
        except OSError:
            continue
        if mtime > best_time:
            best, best_time = sibling, mtime
    return best


def _ignored(folder: str, names: List[str]) -> List[str]:
    return [n for n in names if n == "incremental" or n.startswith(_OWN_RECORDS)]


def _copy(source: Path, dest: Path) -> None:
    cp = shutil.which("cp")
    if cp is not None and os.name == "posix":
        proc = subprocess.run(
            [cp, "-a", "--reflink=auto", str(source), str(dest)], capture_output=True
        )
        if proc.returncode == 0:
            for path in sorted(dest.rglob("*"), reverse=True):
                if path.name == "incremental" and path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                elif path.name.startswith(_OWN_RECORDS) and path.is_file():
                    path.unlink()
            return
        shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, symlinks=True, ignore=_ignored)


def seed(target_dir: Path, source: Path) -> bool:
    """Make ``target_dir`` a copy of ``source`` (a built sibling); False when it cannot.

    The copy is made beside the destination and renamed into place, under the
    source's lock, so a build running there is not copied half-way.
    """
    if target_dir.exists():
        return False
    try:
        with exclusive(source.with_name(source.name + ".lock")):
            return _seed_with(_copy, target_dir, source, str(source))
    except OSError as exc:
        log.debug("Could not seed %s from %s: %s", target_dir, source, exc)
        return False


def _seed_with(
    copy: Callable[[Path, Path], None], target_dir: Path, source: Path, described: str
) -> bool:
    """Copy ``source`` beside ``target_dir`` with ``copy``, then rename it into place, with
    the source's owner record; False, and nothing left behind, when it cannot."""
    if target_dir.exists():
        return False
    start = time.perf_counter()
    try:
        # a locked staging folder: one a killed run left is swept by the next seeding
        with staging_dir(target_dir.parent) as staging:
            copy(source, staging / "copy")
            os.replace(staging / "copy", target_dir)
        owners = source.with_name(source.name + ".owners.json")
        if owners.is_file():
            shutil.copy2(owners, target_dir.with_name(target_dir.name + ".owners.json"))
    except OSError as exc:
        log.debug("Could not seed %s from %s: %s", target_dir, described, exc)
        return False
    log.debug("Seeded %s from %s in %.2f s", target_dir, described, time.perf_counter() - start)
    return True


def _copy_tree_tolerant(source: Path, dest: Path, skip: Sequence[str]) -> None:
    """Copy a folder another process is writing: files that vanish meanwhile are left out."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        entries = list(os.scandir(source))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name in skip or entry.name.startswith(_OWN_RECORDS):
            continue
        target = dest / entry.name
        try:
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                _copy_tree_tolerant(Path(entry.path), target, skip)
            else:
                shutil.copy2(entry.path, target)
        except FileNotFoundError:
            continue  # a temporary file of rustc's, gone


def _fingerprint_folders(root: Path) -> List[Path]:
    """Cargo's ``.fingerprint`` folders: ``<profile>/`` and ``<triple>/<profile>/``."""
    found = []
    for pattern in ("*/.fingerprint", "*/*/.fingerprint"):
        found += [p for p in root.glob(pattern) if p.is_dir()]
    return found


def _copy_running(source: Path, dest: Path) -> None:
    """Fingerprints first, then everything else (see the module's docstring)."""
    for folder in _fingerprint_folders(source):
        _copy_tree_tolerant(folder, dest / folder.relative_to(source), ())
    faults.point("build:seeding")
    _copy_tree_tolerant(source, dest, (".fingerprint", "incremental"))


def seed_from_running(target_dir: Path, source: Path) -> bool:
    """Make ``target_dir`` a copy of ``source`` while cargo is still building there.

    For a cold matrix: called once the first configuration's crates that do not
    depend on the interpreter are built. False, and nothing left behind, when it cannot.
    """
    return _seed_with(_copy_running, target_dir, source, f"the running {source}")
