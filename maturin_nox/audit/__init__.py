"""Linux wheel audit and repair: manylinux/musllinux policies, ELF analysis, grafting.

The build engine calls :func:`decide_platform` on the cargo artifacts before it
writes a wheel and :func:`apply_repair` for the files to put in it; finished
wheels are audited with :func:`analyze_wheel` and repaired with
:func:`repair_wheel`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decide import AuditMode, Graft, PlatformDecision, decide_platform
    from .policy import Policy, canonical_policy_name, policies_for, policy_by_name
    from .repair import apply_repair, find_patchelf, repair_wheel
    from .report import WheelReport, analyze_wheel
    from .zig import zig_available, zig_build_command, zig_cargo_env

# Imported on first use: `maturin-nox audit` should not pay for patchelf or zig code.
_HOMES = {
    "AuditMode": "decide",
    "Graft": "decide",
    "PlatformDecision": "decide",
    "decide_platform": "decide",
    "Policy": "policy",
    "canonical_policy_name": "policy",
    "policies_for": "policy",
    "policy_by_name": "policy",
    "apply_repair": "repair",
    "find_patchelf": "repair",
    "repair_wheel": "repair",
    "WheelReport": "report",
    "analyze_wheel": "report",
    "zig_available": "zig",
    "zig_build_command": "zig",
    "zig_cargo_env": "zig",
}


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first access."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


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
