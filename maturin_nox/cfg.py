"""Which platform-specific dependencies apply to a build, as cargo decides it.

maturin reads ``cargo metadata`` without ``--filter-platform`` (unless a target is
given), so the project holds every platform's dependency graph: what maturin's SBOM
lists. Whether a dependency counts for the build (the bindings it makes, whether a
binary embeds Python) is decided as ``--filter-platform`` would decide it: a
``[target.'cfg(...)'.dependencies]`` entry applies when its expression holds for the
target's ``rustc --print cfg``, a ``[target.<triple>.dependencies]`` entry when the
triple is the target's. ``rustc`` runs once per process, and only when the graph has
such an entry.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Dict, FrozenSet, List, Optional, Tuple

from .errors import CargoError

__all__ = ["platform_applies"]

_TOKEN = re.compile(r'\s*(?:(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|"(?P<str>[^"]*)"|(?P<punct>[(),=]))')

# (triple or "" for the host) -> (its triple, its cfg names and key="value" pairs)
_CFG: Dict[str, Tuple[str, FrozenSet[str]]] = {}


def platform_applies(spec: Optional[str], triple: Optional[str] = None) -> bool:
    """Whether a dependency declared for ``spec`` (None: every platform; ``cfg(...)`` or a
    target triple) applies when building for ``triple`` (None: the host)."""
    if spec is None:
        return True
    target, cfg = _target_cfg(triple)
    spec = spec.strip()
    if not spec.startswith("cfg("):
        return spec == target
    tokens = _tokens(spec)
    value, rest = _predicate(tokens[2:-1] if tokens[1] == "(" else tokens, cfg, spec)
    if rest:
        raise ValueError(f"unexpected {rest[0]!r} in {spec}")
    return value


def _tokens(text: str) -> List[str]:
    out: List[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip():
                raise ValueError(f"cannot read {text!r} as a cfg expression")
            break
        if match.group("ident") is not None:
            out.append(match.group("ident"))
        elif match.group("str") is not None:
            out.append('"' + match.group("str") + '"')
        else:
            out.append(match.group("punct"))
        pos = match.end()
    return out


def _predicate(tokens: List[str], cfg: FrozenSet[str], spec: str) -> Tuple[bool, List[str]]:
    """Evaluate one predicate at the front of ``tokens``; return it and what follows."""
    if not tokens:
        raise ValueError(f"{spec} ends too early")
    head, rest = tokens[0], tokens[1:]
    if head in ("all", "any", "not") and rest[:1] == ["("]:
        rest = rest[1:]
        values: List[bool] = []
        while rest[:1] != [")"]:
            value, rest = _predicate(rest, cfg, spec)
            values.append(value)
            if rest[:1] == [","]:
                rest = rest[1:]
        rest = rest[1:]
        if head == "not":
            if len(values) != 1:
                raise ValueError(f"not() takes one predicate in {spec}")
            return not values[0], rest
        return (all(values) if head == "all" else any(values)), rest
    if rest[:1] == ["="] and len(rest) > 1 and rest[1].startswith('"'):
        return f"{head}={rest[1]}" in cfg, rest[2:]
    return head in cfg, rest


def _target_cfg(triple: Optional[str]) -> Tuple[str, FrozenSet[str]]:
    """The target's triple and its ``rustc --print cfg`` lines (``unix``, ``target_os="linux"``)."""
    key = triple or ""
    if key not in _CFG:
        from .cargo import host_triple

        rustc = os.environ.get("RUSTC") or shutil.which("rustc") or "rustc"
        cmd = [rustc, "--print", "cfg"]
        if triple:
            cmd += ["--target", triple]
        # cargo asks rustc with the build's flags too (`--cfg`, `-C target-feature`)
        encoded = os.environ.get("CARGO_ENCODED_RUSTFLAGS")
        if encoded is not None:
            cmd += [f for f in encoded.split("\x1f") if f]
        else:
            cmd += os.environ.get("RUSTFLAGS", "").split()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise CargoError(f"Cannot run `{rustc}`: {exc.strerror}.", cmd) from None
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or ["no output"])[0]
            raise CargoError(f"`{' '.join(cmd)}` failed: {detail.rstrip('.')}.", cmd)
        cfg = frozenset(line.strip() for line in proc.stdout.splitlines() if line.strip())
        _CFG[key] = (triple or host_triple(), cfg)
    return _CFG[key]
