"""abi3 wheels checked against the limited API of their minimum Python, with abi3audit.

An ``abi3`` wheel promises to work on every CPython from its minimum version
on. A library that calls a symbol outside the limited API (easy through
pyo3-ffi) or one the limited API gained only later breaks that promise on some
interpreters. abi3audit (PyPI, by Trail of Bits) knows the limited API of each
version; it is run from the current environment when it is installed there,
else from a cached tool environment of maturin-nox's venv manager.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Mapping, Sequence

from ..errors import AuditError

__all__ = ["ABI3AUDIT", "abi3_problems", "is_abi3_wheel"]

log = logging.getLogger("maturin_nox")

ABI3AUDIT = "abi3audit>=0.0.20"


def is_abi3_wheel(name: str) -> bool:
    """Whether a wheel's file name says it targets the stable ABI."""
    parts = name[: -len(".whl")].split("-") if name.endswith(".whl") else []
    return len(parts) >= 5 and "abi3" in parts[-2].split(".")


def _command() -> List[str]:
    """How to run abi3audit: this interpreter's, one on PATH, or a cached tool environment's."""
    try:
        import importlib.util

        if importlib.util.find_spec("abi3audit") is not None:
            return [sys.executable, "-m", "abi3audit"]
    except (ImportError, ValueError):
        pass
    found = shutil.which("abi3audit")
    if found:
        return [found]
    from ..errors import VenvError
    from ..venv import VenvManager

    try:
        env = VenvManager().get(sys.executable, [ABI3AUDIT])
    except VenvError as exc:
        raise AuditError(
            f"abi3 wheels are checked with abi3audit, which could not be installed: {exc.message}"
        ) from None
    return [str(env.python), "-m", "abi3audit"]


def _report(wheel: Path) -> Mapping[str, Any]:
    with tempfile.TemporaryDirectory(prefix="maturin-nox-abi3audit-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [*_command(), "--report", "--output", str(out), "--strict", str(wheel)]
        env = {**os.environ, "NO_COLOR": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        try:
            report: Mapping[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise AuditError(
                f"abi3audit could not check {wheel.name}: "
                f"{detail[-1] if detail else f'exit {proc.returncode}'}."
            ) from None
    return report


def abi3_problems(wheel: Path) -> List[str]:
    """What makes an abi3 wheel break its promise, one sentence each (empty when it keeps it)."""
    report = _report(wheel)
    problems: List[str] = []
    for spec in report.get("specs", {}).values():
        for item in spec.get("wheel", []) or []:
            result = item.get("result") or {}
            name = item.get("name", "?")
            baseline = result.get("baseline", "?")
            symbols: Sequence[Any] = result.get("non_abi3_symbols") or []
            for symbol in symbols:
                symbol_name = symbol.get("name") if isinstance(symbol, dict) else str(symbol)
                problems.append(
                    f"{wheel.name}: {name} calls {symbol_name}, which is not in the limited API "
                    f"of an abi3 wheel for Python {baseline}+"
                )
            future: Mapping[str, Any] = result.get("future_abi3_objects") or {}
            for symbol, version in future.items():
                problems.append(
                    f"{wheel.name}: {name} calls {symbol}, which the limited API has only from "
                    f"Python {version}, above the wheel's minimum {baseline}"
                )
    return problems
