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

A cold configuration with no built sibling may start from another project's
build on this machine (:func:`seed_shared`): every finished build notes its
target directory in ``cache_root()/built-targets``, and a cold one copies,
from the newest noted directory of the same configuration (the same folder
name: the same ``PYO3_PYTHON``, stable ABI, features and target triple), the
units of the crates its own build takes from a registry or git: pyo3, syn,
libc... never the other project's own crates. Cargo's fingerprints then decide,
as they do in a ``CARGO_TARGET_DIR`` shared by both projects: a unit built with
other versions, features, profile settings or flags is built again. A source
that a build holds is skipped, never waited for (cold builds may copy from one
source at once), and so is one another rustc built. ``MATURIN_NOX_SEED=local``
seeds only from the project's own configurations, ``MATURIN_NOX_SEED=0`` not at
all.

:func:`forget_package` is how a shared target directory changes hands between
two checkouts of one crate: cargo hashes a path crate relative to its
workspace, so both have the same units there, and removing the crate's
fingerprints makes cargo build it alone again.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Collection, FrozenSet, List, Optional, Sequence, Set, Tuple

from . import faults
from .atomic import write_text_atomic
from .cargo import rustc_executable
from .common import cache_root
from .locks import exclusive, if_free
from .staging import staging_dir

__all__ = [
    "forget_package",
    "mode",
    "pick_source",
    "record_built",
    "seed",
    "seed_from_running",
    "seed_shared",
    "shared_sources",
]

log = logging.getLogger("maturin_nox")

# Ours, not cargo's: records that name the configuration they were made in.
_OWN_RECORDS = ("wheel-stamp.json", "audit-cache.json", "maturin-nox-run-", "uniffi-glue-")


_WARNED: Set[str] = set()  # MATURIN_NOX_SEED values already warned about


def mode() -> str:
    """``MATURIN_NOX_SEED``: "off" (0), "local" (the project's own configurations only) or
    "machine" (the default: other projects' builds too)."""
    value = os.environ.get("MATURIN_NOX_SEED", "")
    if value == "0":
        return "off"
    if value == "local":
        return "local"
    if value not in ("", "1", "machine") and value not in _WARNED:
        _WARNED.add(value)
        log.warning("MATURIN_NOX_SEED=%s is not 0, local or 1: seeding as with 1", value)
    return "machine"


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
    copy: Callable[[Path, Path], None],
    target_dir: Path,
    source: Path,
    described: str,
    owners: bool = True,
) -> bool:
    """Copy ``source`` beside ``target_dir`` with ``copy``, then rename it into place, with
    the source's owner record (unless not ``owners``); False, and nothing left behind,
    when it cannot."""
    if target_dir.exists():
        return False
    start = time.perf_counter()
    try:
        # a locked staging folder: one a killed run left is swept by the next seeding
        with staging_dir(target_dir.parent) as staging:
            copy(source, staging / "copy")
            os.replace(staging / "copy", target_dir)
        record = source.with_name(source.name + ".owners.json")
        if owners and record.is_file():
            shutil.copy2(record, target_dir.with_name(target_dir.name + ".owners.json"))
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


# cache_root()/built-targets/<folder name>--<digest of its path>: the path of a target
# directory that finished a build, its mtime when it last did
_INDEX = "built-targets"
_TRIED = 3  # the newest sources tried; a busy one is passed over


def _entry(target_dir: Path) -> Path:
    digest = hashlib.sha256(os.fsencode(target_dir)).hexdigest()[:16]
    return cache_root() / _INDEX / f"{target_dir.name}--{digest}"


def record_built(target_dir: Path) -> None:
    """Note that ``target_dir`` holds a finished build, for other projects to start from."""
    if mode() != "machine":
        return
    entry = _entry(target_dir)
    try:
        os.utime(entry)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            write_text_atomic(entry, str(target_dir))
    except OSError:
        pass  # only an optimisation


def shared_sources(target_dir: Path) -> List[Path]:
    """Other projects' built target dirs of this configuration, newest first.

    Entries whose folder is gone are dropped from the record.
    """
    pattern = str(cache_root() / _INDEX / f"{glob.escape(target_dir.name)}--*")
    found: List[Tuple[float, Path]] = []
    for name in glob.glob(pattern):
        entry = Path(name)
        try:
            path = Path(entry.read_text(encoding="utf-8").strip())
            when = entry.stat().st_mtime
        except OSError:
            continue
        if path == target_dir or path.name != target_dir.name:
            continue
        if not _built(path):
            with contextlib.suppress(OSError):
                entry.unlink()
            continue
        found.append((when, path))
    return [path for _, path in sorted(found, reverse=True)[:_TRIED]]


def _unit_crate(name: str) -> Optional[str]:
    """The crate of a cargo unit folder or file stem, ``<name>-<hex digest>``, normalized."""
    stem, dash, digest = name.rpartition("-")
    if not dash or not stem or not digest or digest.strip("0123456789abcdef"):
        return None
    return stem.replace("-", "_")


def _file_crates(name: str) -> Tuple[str, ...]:
    """The crates a file of ``deps/`` may belong to: ``libfoo-<digest>.rlib`` is foo's, or
    libfoo's (whose dep-info is ``libfoo-<digest>.d``)."""
    crate = _unit_crate(name.split(".", 1)[0])
    if crate is None:
        return ()
    return (crate, crate[3:]) if crate.startswith("lib") else (crate,)


def _copy_units(source: Path, dest: Path, crates: FrozenSet[str], profile: str) -> None:
    """Copy ``profile``'s units of ``crates`` from a target dir: outputs, then fingerprints."""
    dest.mkdir(parents=True)
    for name in ("CACHEDIR.TAG", ".rustc_info.json"):
        if (source / name).is_file():
            shutil.copy2(source / name, dest / name)
    for fingerprints in _fingerprint_folders(source):
        folder = fingerprints.parent
        if folder.name != profile:
            continue
        for sub in ("build", "deps", ".fingerprint"):
            out = dest / folder.relative_to(source) / sub
            out.mkdir(parents=True, exist_ok=True)
            try:
                entries = list(os.scandir(folder / sub))
            except FileNotFoundError:
                continue
            for entry in entries:
                if sub == "deps":
                    if not crates.intersection(_file_crates(entry.name)):
                        continue
                elif _unit_crate(entry.name) not in crates:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.copytree(entry.path, out / entry.name, symlinks=True)
                elif not entry.is_symlink():
                    shutil.copy2(entry.path, out / entry.name)
        faults.point("build:seeding")


def _rustc_version(cwd: Path) -> Optional[str]:
    """The first line of ``rustc -vV`` run in ``cwd``, where rustup applies the project's
    toolchain file as it does for cargo; None when it cannot be told."""
    try:
        out = subprocess.run(
            [rustc_executable(), "-vV"], cwd=cwd, capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.splitlines()[0] if out else ""
    return first if first.startswith("rustc ") else None


def _built_with(source: Path, version: Optional[str]) -> bool:
    """Whether cargo built ``source`` with that rustc (its ``.rustc_info.json``); True when
    either side cannot tell, for cargo's fingerprints to decide."""
    if version is None:
        return True
    try:
        info = json.loads((source / ".rustc_info.json").read_text(encoding="utf-8"))
        outputs = [str(o.get("stdout", "")) for o in info.get("outputs", {}).values()]
    except (OSError, ValueError, AttributeError):
        return True
    seen = [o.splitlines()[0] for o in outputs if o.startswith("rustc ")]
    return not seen or version in seen


def seed_shared(
    target_dir: Path, crates: Collection[str], profile: str, cwd: Optional[Path] = None
) -> Optional[Path]:
    """Start a cold ``target_dir`` from another project's build of the same configuration.

    ``crates`` are the names of the packages the build takes from a registry or
    git (any spelling: ``-`` and ``_`` are one); ``profile`` is cargo's folder
    for the profile (``debug`` for dev); ``cwd`` is where cargo runs (a source
    built by another toolchain than rustup picks there is passed over). Copies
    those crates' units of that profile from the newest source that no build
    holds, and returns it; None when there is none, or nothing left behind when
    the copy fails.
    """
    wanted = frozenset(c.replace("-", "_") for c in crates)
    if mode() != "machine" or not wanted or target_dir.exists():
        return None
    sources = shared_sources(target_dir)
    version = _rustc_version(cwd) if sources and cwd is not None else None
    for source in sources:
        if not _built_with(source, version):
            log.debug("Not seeding from %s: built by another rustc than %s", source, version)
            continue
        with if_free(source.with_name(source.name + ".lock")) as free:
            if not free:
                log.debug("Not seeding from %s: a build holds it", source)
                continue

            def copy(src: Path, dest: Path) -> None:
                _copy_units(src, dest, wanted, profile)

            if _seed_with(copy, target_dir, source, f"{source}'s crates", owners=False):
                return source
    return None


def forget_package(target_dir: Path, package: str) -> None:
    """Make cargo build every unit of ``package`` in ``target_dir`` again: its fingerprints go.

    Not ``cargo clean -p``, which deletes files by target name: a package whose bin
    is named ``uniffi-bindgen`` (uniffi's own pattern) would take the uniffi_bindgen
    library's files with it, and a minute of compiling.
    """
    name = package.replace("-", "_")
    for folder in _fingerprint_folders(target_dir):
        for entry in list(folder.iterdir()):
            if _unit_crate(entry.name) == name:
                shutil.rmtree(entry, ignore_errors=True)
