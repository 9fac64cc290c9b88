"""A ``PYO3_CONFIG_FILE`` for an interpreter that is not installed, as maturin writes it.

When a build targets a CPython that is only known by its version (``-i 3.15``
with nothing installed, see :func:`maturin_nox.interpreters.not_installed`),
pyo3's build script cannot ask it for its configuration; the file tells pyo3
the version, the ABI (``abi3``, ``abi3t``, GIL-enabled or free-threaded) and
the pointer width instead. pyo3 0.29 reads the ``target_abi`` form, older
versions the ``abi3`` flag.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Tuple

from .atomic import write_text_atomic

if TYPE_CHECKING:
    from .plan import BuildTarget, Plan

__all__ = ["config_env", "config_text"]

_TARGET_ABI_SINCE = (0, 29)  # pyo3 reads target_abi=... from this version on


def _pyo3_version(plan: Plan) -> Tuple[int, ...]:
    versions = [
        tuple(int(x) for x in str(p["version"]).split("-")[0].split(".") if x.isdigit())
        for p in plan.project.cargo_metadata.get("packages", [])
        if p.get("name") in ("pyo3", "pyo3-ffi")
    ]
    return max(versions, default=(0, 0, 0))


def config_text(target: BuildTarget, pyo3_version: Tuple[int, ...]) -> str:
    """The file's text for a target: its version, ABI and pointer width."""
    interp = target.interpreter
    assert interp is not None
    kind: Optional[str] = target.abi_tag.split(".")[-1] if target.abi3 else None
    version = (interp.major, interp.minor)
    if kind is not None and target.python_tag.startswith("cp"):
        digits = target.python_tag[2:]
        version = (int(digits[0]), int(digits[1:]))  # the stable ABI's minimum
    flags = "Py_GIL_DISABLED" if interp.gil_disabled else ""
    lines = ["implementation=CPython", f"version={version[0]}.{version[1]}"]
    if pyo3_version[:2] >= _TARGET_ABI_SINCE:
        abi = kind or ("free_threaded" if interp.gil_disabled else "gil_enabled")
        lines += [f"target_abi=CPython-{abi}-{version[0]}.{version[1]}", "shared=true"]
        lines += [f"build_flags={flags}"]
    else:
        lines += ["shared=true", f"abi3={'true' if kind else 'false'}", f"build_flags={flags}"]
    lines += ["suppress_build_script_link_lines=false", f"pointer_width={interp.pointer_width}"]
    return "\n".join(lines)


def config_env(plan: Plan, target: BuildTarget) -> Dict[str, str]:
    """``PYO3_CONFIG_FILE`` for a target whose interpreter is not installed (none otherwise).

    The file is rewritten only when its text changes, so cargo does not rebuild
    pyo3 every time; a ``PYO3_CONFIG_FILE`` the user set wins.
    """
    interp = target.interpreter
    kind = plan.project.bindings.kind
    if interp is None or interp.runnable or kind not in ("pyo3", "pyo3-ffi"):
        return {}
    if os.environ.get("PYO3_CONFIG_FILE"):
        return {}
    target_dir = plan.target_dir(target)
    path = Path(target_dir.with_name(target_dir.name + ".pyo3-config.txt"))
    text = config_text(target, _pyo3_version(plan))
    try:
        current = path.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current != text:
        write_text_atomic(path, text)
    return {"PYO3_CONFIG_FILE": str(path)}
