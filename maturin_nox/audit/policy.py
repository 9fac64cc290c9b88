"""Platform policies (linux, manylinux, musllinux) loaded from the packaged JSON data.

A policy says which libraries a binary may link to, which symbol versions it
may need from them and which symbols it must not use. ``policies/policies.json``
holds them for every architecture; :func:`policies_for` picks one libc and
architecture and returns them best first (highest priority: oldest libc).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from ..errors import ConfigError

__all__ = [
    "Policy",
    "canonical_policy_name",
    "policies_for",
    "policy_by_name",
]

_DATA = Path(__file__).parent / "policies" / "policies.json"
_MANYLINUX_RE = re.compile(r"^(manylinux|musllinux)_(\d+)_(\d+)$")


@dataclass(frozen=True)
class Policy:
    """One policy for one architecture: ``manylinux_2_17`` on ``x86_64``, say."""

    name: str
    libc: str  # "glibc", "musl" or "any" (the plain linux policy)
    arch: str
    aliases: Tuple[str, ...]
    priority: int
    libraries: FrozenSet[str]
    symbol_versions: Mapping[str, FrozenSet[str]]  # prefix ("GLIBC") -> allowed versions
    blacklist: Mapping[str, FrozenSet[str]]  # library -> forbidden symbols

    @property
    def is_linux(self) -> bool:
        """True for the plain ``linux`` policy, which allows anything."""
        return self.name == "linux"

    def tags(self) -> Tuple[str, ...]:
        """The platform tags of this policy, PEP 600 name first, then its aliases."""
        return tuple(f"{n}_{self.arch}" for n in (self.name, *self.aliases))

    def allows_version(self, version: str) -> bool:
        """Whether a needed symbol version (``GLIBC_2.17``) is allowed.

        Prefixes the policy does not know (``OPENSSL_3.0.0``) are not its business.
        """
        prefix, _, number = version.partition("_")
        allowed = self.symbol_versions.get(prefix)
        return allowed is None or number in allowed


@functools.lru_cache(maxsize=None)
def _raw() -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(_DATA.read_text(encoding="utf-8"))
    return data


@functools.lru_cache(maxsize=None)
def policies_for(libc: str, arch: str) -> Tuple[Policy, ...]:
    """Every policy for a libc (``glibc``/``musl``) and architecture, best first, linux last."""
    raw = _raw()
    result = []
    for entry in raw["policies"]:
        if entry["libc"] not in ("any", libc):
            continue
        if entry["name"] != "linux" and arch not in entry["symbol_versions"]:
            continue
        libraries = set(entry["libraries"])
        if libc == "musl" and "libc.so" in libraries:
            # musl's libc is libc.musl-<arch>.so.1 on Alpine, but binaries linked by
            # Rust's self-contained musl target need plain libc.so: allow both.
            if arch in raw["musl_libc_soname"]:
                libraries.add(raw["musl_libc_soname"][arch])
        versions = entry["symbol_versions"].get(arch, {})
        result.append(
            Policy(
                name=entry["name"],
                libc=entry["libc"],
                arch=arch,
                aliases=tuple(entry["aliases"]),
                priority=entry["priority"],
                libraries=frozenset(libraries),
                symbol_versions={k: frozenset(v) for k, v in versions.items()},
                blacklist={k: frozenset(v) for k, v in entry["blacklist"].items()},
            )
        )
    result.sort(key=lambda p: -p.priority)
    return tuple(result)


def canonical_policy_name(name: str) -> str:
    """``manylinux2014`` -> ``manylinux_2_17``; PEP 600 names and ``linux`` pass through."""
    key = name.strip().lower().replace("-", "_")
    for entry in _raw()["policies"]:
        if key == entry["name"] or key in entry["aliases"]:
            return str(entry["name"])
    if _MANYLINUX_RE.match(key):
        return key
    raise ConfigError(
        f"Unknown compatibility {name!r}: use linux, manylinux_X_Y, manylinux1, "
        "manylinux2010, manylinux2014, musllinux_1_1, musllinux_1_2 or pypi.",
        key="compatibility",
    )


def policy_by_name(name: str, libc: str, arch: str) -> Policy:
    """The policy called ``name`` (or an alias) for this libc and architecture."""
    canonical = canonical_policy_name(name)
    for policy in policies_for(libc, arch):
        if policy.name == canonical:
            return policy
    known = _MANYLINUX_RE.match(canonical)
    if known and (known.group(1) == "musllinux") != (libc == "musl"):
        raise ConfigError(
            f"Compatibility {name!r} does not fit binaries linked against {libc}.",
            key="compatibility",
        )
    raise ConfigError(
        f"There is no {canonical} policy for {arch}; known ones are "
        + ", ".join(p.name for p in policies_for(libc, arch))
        + ".",
        key="compatibility",
    )


def newest_known(libc: str, arch: str) -> Optional[Policy]:
    """The lowest-priority (newest libc) non-linux policy, if any."""
    real = [p for p in policies_for(libc, arch) if not p.is_linux]
    return real[-1] if real else None
