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
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

from .locks import exclusive

__all__ = ["pick_source", "seed"]

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
    start = time.perf_counter()
    try:
        with exclusive(source.with_name(source.name + ".lock")):
            staging = Path(
                tempfile.mkdtemp(prefix=f".{target_dir.name}.seeding-", dir=target_dir.parent)
            )
            try:
                copy = staging / "copy"
                _copy(source, copy)
                os.replace(copy, target_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            owners = source.with_name(source.name + ".owners.json")
            if owners.is_file():
                shutil.copy2(owners, target_dir.with_name(target_dir.name + ".owners.json"))
    except OSError as exc:
        log.debug("Could not seed %s from %s: %s", target_dir, source, exc)
        return False
    log.debug("Seeded %s from %s in %.2f s", target_dir, source, time.perf_counter() - start)
    return True
