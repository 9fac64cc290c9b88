"""The stable ABIs a pyo3 crate can target: ``abi3`` (PEP 384) and ``abi3t`` (PEP 803).

pyo3 and pyo3-ffi select them with cargo features: ``abi3`` / ``abi3-pyXY`` and
``abi3t`` / ``abi3t-pyXY`` (free-threaded-compatible, CPython 3.15 and later).
A build targets one of them, chosen as maturin 1.16 chooses: ``abi3t`` when
one of the interpreters can use it, else ``abi3`` when one can, else the
crate's ``abi3`` (or ``abi3t``) anyway, with every interpreter falling back to
a version-specific wheel. An ``abi3t`` wheel is tagged ``cp3X-abi3.abi3t-…``:
one ``abi3t`` library also loads into GIL-enabled CPython as ``abi3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from .interpreters import Interpreter

__all__ = ["ABI3T_MINIMUM", "PYO3_CRATES", "StableAbi", "crate_stable_abis", "select_stable_abi"]

ABI3T_MINIMUM = (3, 15)
# pyo3-ffi first: maturin looks at it first (newer and more restrictive)
PYO3_CRATES = ("pyo3-ffi", "pyo3")


@dataclass(frozen=True)
class StableAbi:
    """One stable ABI and its minimum Python (None: the building interpreter's version)."""

    kind: str  # "abi3" or "abi3t"
    min_version: Optional[Tuple[int, int]] = None

    @property
    def abi_tag(self) -> str:
        """The wheel's ABI tag, compressed: ``abi3``, or ``abi3.abi3t`` (an abi3t library loads as both)."""
        return "abi3" if self.kind == "abi3" else "abi3.abi3t"

    def supports(self, interp: Interpreter) -> bool:
        """Whether a wheel of this ABI serves the interpreter (maturin's ``stable_abi_for_interpreter``)."""
        if interp.implementation != "cpython":
            return False
        if self.kind == "abi3" and interp.gil_disabled:
            return False  # free-threaded CPython has no abi3
        if self.kind == "abi3t" and (interp.major, interp.minor) < ABI3T_MINIMUM:
            return False
        return self.min_version is None or (interp.major, interp.minor) >= self.min_version

    def python_tag(self, builder: Interpreter) -> str:
        """``cp38`` for abi3-py38; the builder's version when the crate names none."""
        major, minor = self.min_version or (builder.major, builder.minor)
        return f"cp{major}{minor}"

    def extension_suffix(self, builder: Interpreter) -> str:
        """The library's suffix: ``.abi3.so`` / ``.abi3t.so``, with the platform from 3.15 on.

        CPython 3.15 (gh-122931) looks for ``.abi3-<platform>.so``; older ones refuse
        such names, so the platform is only added when the minimum is 3.15 or newer.
        """
        if builder.system == "windows":
            return ".pyd"
        major, minor = self.min_version or (builder.major, builder.minor)
        if (major, minor) < (3, 15):
            return f".{self.kind}.so"
        platform = _soabi_platform(builder)
        return f".{self.kind}-{platform}.so" if platform else f".{self.kind}.so"


def _soabi_platform(interp: Interpreter) -> Optional[str]:
    """``x86_64-linux-gnu`` from ``cpython-315-x86_64-linux-gnu`` (the SOABI without its ABI part)."""
    soabi = interp.soabi or ""
    parts = soabi.split("-")
    if len(parts) >= 3 and parts[0] == "cpython":
        return "-".join(parts[2:])
    return None


def _from_features(features: Iterable[str], kind: str) -> Optional[StableAbi]:
    """``abi3-py38`` gives abi3 from 3.8 (the lowest such feature wins); a bare ``abi3`` the builder's version."""
    feats = set(features)
    prefix = f"{kind}-py"
    versions = sorted(
        (int(f[len(prefix)]), int(f[len(prefix) + 1 :]))
        for f in feats
        if f.startswith(prefix) and f[len(prefix) :].isdigit() and len(f) >= len(prefix) + 2
    )
    if versions:
        low = versions[0]
        if kind == "abi3t":
            low = max(low, ABI3T_MINIMUM)
        return StableAbi(kind, low)
    if kind in feats:
        return StableAbi(kind)
    return None


def crate_stable_abis(
    crate_features: Mapping[str, Sequence[str]],
    extra: Optional[Mapping[str, Sequence[str]]] = None,
) -> Tuple[Optional[StableAbi], Optional[StableAbi]]:
    """The abi3t and abi3 the pyo3/pyo3-ffi features (plus ``extra`` ones per crate) select.

    As maturin: per kind, the first of pyo3-ffi, pyo3 in the graph that selects it decides.
    """
    found = []
    for kind in ("abi3t", "abi3"):
        chosen: Optional[StableAbi] = None
        for crate in PYO3_CRATES:
            if crate in crate_features:
                feats = [*crate_features[crate], *(extra or {}).get(crate, ())]
                chosen = _from_features(feats, kind)
                if chosen is not None:
                    break
        found.append(chosen)
    return found[0], found[1]


def select_stable_abi(
    abi3t: Optional[StableAbi], abi3: Optional[StableAbi], interpreters: Sequence[Interpreter]
) -> Optional[StableAbi]:
    """The one stable ABI this build targets: the first of abi3t, abi3 an interpreter can use.

    When none can, the crate's abi3 (else abi3t) stays the marker and every
    interpreter gets a version-specific wheel.
    """
    for candidate in (abi3t, abi3):
        if candidate is not None and any(candidate.supports(i) for i in interpreters):
            return candidate
    return abi3 or abi3t
