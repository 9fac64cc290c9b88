"""Auditing a finished wheel, ours or anyone's: what ``auditwheel show`` tells.

The wheel is read in memory (never unpacked); its ELF members are judged
together, with ``$ORIGIN`` paths resolved inside the archive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..errors import AuditError
from ..wheel import WheelContents, parse_wheel_filename, read_wheel
from .analyze import WHEEL_ROOT, Analysis, analyze_members
from .elf import ElfInfo, is_elf, parse_elf

__all__ = ["WheelReport", "analyze_wheel", "wheel_libc_and_arch", "wheel_members"]


@dataclass(frozen=True)
class WheelReport:
    """The audit of one wheel."""

    wheel: str
    tag: Optional[str]  # the best platform tag it is consistent with; None for a pure wheel
    policy: Optional[str]
    symbol_tag: Optional[str]  # the best tag its symbol versions alone allow
    versioned_symbols: Mapping[str, Tuple[str, ...]]  # library -> versions needed
    external_libs: Mapping[str, Optional[str]]  # soname -> path on this machine (None: absent)
    blockers: Mapping[str, Tuple[str, ...]]  # better policy -> what stands in its way

    @property
    def pure(self) -> bool:
        """True when the wheel holds no ELF file at all."""
        return self.tag is None

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain data (what ``--json`` prints)."""
        return {
            "wheel": self.wheel,
            "pure": self.pure,
            "tag": self.tag,
            "policy": self.policy,
            "symbol_tag": self.symbol_tag,
            "versioned_symbols": {k: list(v) for k, v in self.versioned_symbols.items()},
            "external_libs": dict(self.external_libs),
            "blockers": {k: list(v) for k, v in self.blockers.items()},
        }

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        """The report as sentences, like ``auditwheel show``."""
        if self.pure:
            return f"{self.wheel} holds no ELF files: it is a pure wheel and needs no audit."
        lines = [f'{self.wheel} is consistent with the platform tag "{self.tag}".']
        if self.versioned_symbols:
            lines.append("It references versioned symbols from these libraries:")
            lines += [f"  {lib}: {', '.join(v)}" for lib, v in self.versioned_symbols.items()]
        if self.symbol_tag != self.tag:
            lines.append(f'Its symbol versions alone would allow "{self.symbol_tag}".')
        if self.external_libs:
            lines.append("It needs these external shared libraries:")
            lines += [
                f"  {lib} => {path or 'not found'}" for lib, path in self.external_libs.items()
            ]
        else:
            lines.append("It needs no external shared libraries.")
        for policy, reasons in self.blockers.items():
            lines.append(f"For {policy}, eliminate:")
            lines += [f"  - {r}" for r in reasons]
        return "\n".join(lines)


def wheel_members(contents: WheelContents) -> Dict[str, ElfInfo]:
    """The wheel's ELF files, parsed and keyed by their location under WHEEL_ROOT."""
    members: Dict[str, ElfInfo] = {}
    for arcname, data in contents.files.items():
        if not is_elf(data):
            continue
        if ".data/purelib/" in arcname:
            raise AuditError(
                f"{contents.path.name} has the shared library {arcname} in purelib; "
                "binaries belong in platlib."
            )
        members[f"{WHEEL_ROOT}/{arcname}"] = parse_elf(data, arcname)
    return members


def wheel_libc_and_arch(filename: str) -> Tuple[Optional[str], Optional[str]]:
    """The libc and architecture a wheel's platform tag names, if it names them."""
    tag = parse_wheel_filename(filename).tag
    platforms = tag.split("-")[-1].split(".")
    libc: Optional[str] = None
    arch: Optional[str] = None
    for plat in platforms:
        if plat.startswith("musllinux_"):
            libc = "musl"
        elif plat.startswith("manylinux"):
            libc = libc or "glibc"
        if plat.startswith(("linux_", "manylinux", "musllinux_")):
            parts = plat.split("_")
            # linux_x86_64, manylinux1_x86_64, manylinux_2_17_x86_64
            skip = 3 if plat.startswith(("manylinux_", "musllinux_")) else 1
            arch = "_".join(parts[skip:])
    return libc, arch


def analyze_wheel(path: Union[str, Path], *, verify_record: bool = True) -> WheelReport:
    """Audit a wheel file: its best platform tag, needs, external libraries and blockers."""
    wheel = Path(path)
    contents = read_wheel(wheel, verify_record=verify_record)
    members = wheel_members(contents)
    if not members:
        return WheelReport(wheel.name, None, None, None, {}, {}, {})
    libc, arch = wheel_libc_and_arch(wheel.name)
    analysis = analyze_members(members, libc=None if libc != "musl" else "musl")
    if arch is not None and arch != analysis.arch:
        raise AuditError(
            f"{wheel.name} is tagged for {arch} but its binaries are built for {analysis.arch}."
        )
    return report_from(wheel.name, analysis)


def report_from(wheel_name: str, analysis: Analysis) -> WheelReport:
    """Turn an analysis into a report."""
    best = analysis.best()
    real = [b for b in analysis.blockers if not b.policy.is_linux]
    symbol_best = next(
        (b.policy for b in analysis.candidates() if b.policy.is_linux or not b.symbol_versions),
        best,
    )
    strictest = real[0] if real else None
    external = (
        {lib: (str(p) if p else None) for lib, p in sorted(strictest.external_libs.items())}
        if strictest
        else {}
    )
    blockers: Dict[str, Tuple[str, ...]] = {}
    for b in real:
        if b.policy.priority <= best.priority:
            break
        reasons: List[str] = b.reasons()
        if reasons:
            blockers[b.policy.tags()[0]] = tuple(reasons)
    return WheelReport(
        wheel=wheel_name,
        tag=best.tags()[0],
        policy=best.name,
        symbol_tag=symbol_best.tags()[0],
        versioned_symbols={
            k: tuple(sorted(v, key=_version_key))
            for k, v in sorted(analysis.versioned_symbols.items())
        },
        external_libs=external,
        blockers=blockers,
    )


def _version_key(version: str) -> Tuple[str, Tuple[int, ...]]:
    prefix, _, number = version.partition("_")
    try:
        return prefix, tuple(int(x) for x in number.split("."))
    except ValueError:
        return version, ()
