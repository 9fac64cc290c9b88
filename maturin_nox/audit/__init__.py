"""Linux wheel audit and repair: manylinux/musllinux policies, ELF analysis, grafting.

The build engine calls :func:`decide_platform` on the cargo artifacts before it
writes a wheel and :func:`apply_repair` for the files to put in it; finished
wheels are audited with :func:`analyze_wheel` and repaired with
:func:`repair_wheel`.
"""

from __future__ import annotations

from .decide import AuditMode, Graft, PlatformDecision, decide_platform
from .policy import Policy, canonical_policy_name, policies_for, policy_by_name
from .repair import apply_repair, find_patchelf, repair_wheel
from .report import WheelReport, analyze_wheel
from .zig import zig_available, zig_build_command, zig_cargo_env

__all__ = [
    "AuditMode",
    "Graft",
    "PlatformDecision",
    "Policy",
    "WheelReport",
    "analyze_wheel",
    "apply_repair",
    "canonical_policy_name",
    "decide_platform",
    "find_patchelf",
    "policies_for",
    "policy_by_name",
    "repair_wheel",
    "zig_available",
    "zig_build_command",
    "zig_cargo_env",
]
