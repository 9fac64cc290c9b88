"""Choosing the platform tag for binaries about to go into a wheel, and what to graft.

The build engine calls :func:`decide_platform` on the cargo artifacts before it
writes the wheel, so a repair never has to rewrite a finished archive.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence, Tuple

from ..errors import AuditError
from .analyze import LIBPYTHON_RE, Analysis, Blockers, analyze_members
from .elf import ElfInfo, elf_arch, read_elf
from .policy import canonical_policy_name, policy_by_name

__all__ = [
    "AuditMode",
    "Graft",
    "PlatformDecision",
    "decide",
    "decide_platform",
    "requested_policy",
]

log = logging.getLogger("maturin_nox")

AuditMode = Literal["repair", "check", "warn", "skip"]
_LINUXISH = ("linux_", "manylinux", "musllinux_")


@dataclass(frozen=True)
class Graft:
    """An external library to copy into the wheel."""

    source: Path  # the library on this machine
    arcname: str  # e.g. "mypkg.libs/libtinymath-1a2b3c4d.so"
    soname: str  # new SONAME (hashed name)
    original_soname: str


@dataclass(frozen=True)
class PlatformDecision:
    """The platform tags for a wheel, the policy they claim and the libraries to graft."""

    platform_tags: Tuple[str, ...]  # best first; ("linux_x86_64",) for linux/off
    policy: str  # e.g. "manylinux_2_17"; "linux" when nothing is claimed
    grafts: Tuple[Graft, ...]
    messages: Tuple[str, ...]  # warnings for the caller to show (not logged here)


def decide_platform(
    elf_files: Sequence[Path],
    *,
    compatibility: Optional[str],
    mode: AuditMode,
    libs_dir: str,
    zig: bool = False,
    platform_tag: Optional[str] = None,
    lib_dirs: Sequence[Path] = (),
) -> PlatformDecision:
    """Decide the platform tag for ELF files (cargo artifacts) and what to graft.

    ``platform_tag`` is the caller's tag for the target: non-Linux tags come back
    unchanged. ``lib_dirs`` are extra folders to find linked libraries in (cargo's
    build-script ``linked_paths``), searched like ``LD_LIBRARY_PATH``.
    """
    if platform_tag is not None and not platform_tag.startswith(_LINUXISH):
        return PlatformDecision((platform_tag,), "", (), ())
    wanted = requested_policy(compatibility)
    arch = _arch_of(elf_files, platform_tag)
    if wanted == "linux":
        return PlatformDecision((f"linux_{arch}",), "linux", (), ())
    if mode == "skip":
        if wanted in (None, "pypi"):
            return PlatformDecision(
                (f"linux_{arch}",),
                "linux",
                (),
                (
                    "The audit was skipped, so the wheel is tagged linux; "
                    "name a --compatibility to tag it for PyPI.",
                ),
            )
        libc = "musl" if wanted.startswith("musllinux") else "glibc"
        policy = policy_by_name(wanted, libc, arch)
        return PlatformDecision(policy.tags(), policy.name, (), ())
    members: Dict[str, ElfInfo] = {}
    for path in elf_files:
        members[str(Path(path).absolute())] = read_elf(Path(path), str(path))
    analysis = analyze_members(members, extra_lib_dirs=lib_dirs)
    if arch != analysis.arch:
        raise AuditError(
            f"{elf_files[0]} is built for {analysis.arch}, not for the target's {arch}."
        )
    return decide(analysis, wanted, mode=mode, libs_dir=libs_dir, zig=zig)


def requested_policy(compatibility: Optional[str]) -> Optional[str]:
    """None (best available), "pypi", "linux" or a canonical policy name."""
    from ..platform_tags import parse_compatibility

    if compatibility is None or compatibility.strip() == "":
        return None
    key = parse_compatibility(compatibility)  # maturin's spellings: 2014, 2_28, off, ...
    if key in ("linux", "pypi"):
        return key
    return canonical_policy_name(key)


def _arch_of(elf_files: Sequence[Path], platform_tag: Optional[str]) -> str:
    if platform_tag is not None:
        parts = platform_tag.split("_")
        skip = 3 if platform_tag.startswith(("manylinux_", "musllinux_")) else 1
        return "_".join(parts[skip:])
    for path in elf_files:
        arch, _ = elf_arch(Path(path))
        if arch is not None:
            return arch
    machine = platform.machine()
    return {"AMD64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def decide(
    analysis: Analysis, wanted: Optional[str], *, mode: AuditMode, libs_dir: str, zig: bool = False
) -> PlatformDecision:
    """Turn an analysis into a decision for a requested policy (None: the best, or "pypi")."""
    _refuse_libpython(analysis)
    if wanted in (None, "pypi"):
        plain = analysis.best()
        chosen = analysis.best(graft=True) if mode == "repair" else plain
        if chosen.is_linux:
            closest = _closest(analysis)
            reasons = closest.reasons() if closest else []
            if wanted == "pypi":
                raise AuditError(_failure(closest, reasons, analysis, zig))
            summary = (
                f"The binaries meet no manylinux/musllinux policy, so the wheel is "
                f"tagged linux_{analysis.arch}, which PyPI refuses."
            )
            messages = (summary, *reasons[:5])
            return PlatformDecision(chosen.tags(), chosen.name, (), messages)
        return _tagged(analysis.policy(chosen.name), libs_dir, ())
    policy = policy_by_name(wanted, analysis.libc, analysis.arch)
    blockers = analysis.policy(policy.name)
    if blockers.met():
        return PlatformDecision(policy.tags(), policy.name, (), ())
    if mode == "repair" and blockers.met_by_grafting():
        return _tagged(blockers, libs_dir, ())
    if mode == "warn":
        messages = tuple(blockers.reasons())
        return PlatformDecision(policy.tags(), policy.name, (), messages)
    raise AuditError(_failure(blockers, blockers.reasons(), analysis, zig))


def _refuse_libpython(analysis: Analysis) -> None:
    """A library linked to libpython fails whatever the policy and audit mode, as in
    maturin: Python has loaded one already, and a static Python has none to offer.
    Programs may link it (the analysis leaves theirs out)."""
    for blockers in analysis.candidates():
        for member in blockers.libpython:
            lib = next((n for n in blockers.external_libs if LIBPYTHON_RE.match(n)), "libpython")
            raise AuditError(
                f"{member} links {lib}, which a library must not do; have you "
                "forgotten to activate pyo3's extension-module feature?"
            )


def _closest(analysis: Analysis) -> Optional[Blockers]:
    """The newest real policy: the one with the fewest obstacles."""
    real = [b for b in analysis.candidates() if not b.policy.is_linux]
    return real[-1] if real else None


def _failure(
    blockers: Optional[Blockers], reasons: List[str], analysis: Analysis, zig: bool
) -> str:
    """One sentence saying what blocks the policy and how to get past it."""
    if blockers is None or not reasons:
        return f"No manylinux/musllinux policy is known for {analysis.libc} on {analysis.arch}."
    text = reasons[0]
    if len(reasons) > 1:
        text += f" (and {len(reasons) - 1} more problem{'s' if len(reasons) > 2 else ''})"
    hints = []
    if blockers.symbol_versions:
        newer = next(
            (
                b.policy.name
                for b in analysis.candidates()
                if not b.policy.is_linux
                and not b.symbol_versions
                and b.policy.priority < blockers.policy.priority
            ),
            None,
        )
        if not zig and analysis.libc == "glibc":
            hints.append("build with --zig")
        if newer:
            hints.append(f"choose --compatibility {newer}")
    elif blockers.external_libs and all(blockers.external_libs.values()):
        hints.append("use the repair mode to copy the libraries into the wheel")
    return text + ("; " + " or ".join(hints) if hints else "") + "."


def _tagged(blockers: Blockers, libs_dir: str, messages: Tuple[str, ...]) -> PlatformDecision:
    """The decision for a policy met once its external libraries are grafted."""
    grafts = tuple(
        _graft(soname, path, libs_dir)
        for soname, path in sorted(blockers.external_libs.items())
        if path is not None
    )
    for g in grafts:
        log.info("Grafting %s (%s) into the wheel as %s", g.original_soname, g.source, g.arcname)
    return PlatformDecision(blockers.policy.tags(), blockers.policy.name, grafts, messages)


def _graft(soname: str, source: Path, libs_dir: str) -> Graft:
    """A graft with a content-hashed soname, so it can never clash with the system's copy."""
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:8]
    except OSError as exc:
        raise AuditError(f"Cannot read {source} to graft it: {exc.strerror}.") from None
    # A NEEDED entry may be a path (even a hostile one): the graft takes its file name only.
    base, dot, rest = posixpath.basename(soname).partition(".")
    new = f"{base}-{digest}{dot}{rest}"
    return Graft(source, f"{libs_dir.rstrip('/')}/{new}", new, soname)
