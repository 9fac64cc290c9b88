"""Which cargo targets of the crate go into the wheel: ``[[tool.maturin.targets]]``.

As maturin 1.16: a binary crate's wheel holds its ``[[bin]]`` targets whose
``required-features`` are on, a library crate's wheel its library; when
``[[tool.maturin.targets]]`` lists targets (by ``name``, and ``kind``, a crate
type, when given), only those, and a list that matches none of them is an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Mapping

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import CargoTarget
    from .project import Project

__all__ = ["check_targets", "selected_bins"]


def _matches(wanted: CargoTarget, target: Mapping[str, Any]) -> bool:
    if wanted.name != target.get("name"):
        return False
    return wanted.kind is None or wanted.kind in target.get("crate_types", [])


def _root_features(project: Project) -> List[str]:
    meta = getattr(project, "cargo_metadata", None) or {}  # stand-ins in unit tests have none
    resolve = meta.get("resolve") or {}
    for node in resolve.get("nodes", []):
        if node.get("id") == project.package.get("id"):
            return list(node.get("features", []))
    return []


def _no_match(project: Project, candidates: List[Mapping[str, Any]]) -> ConfigError:
    names = ", ".join(str(t.get("name")) for t in candidates) or "none"
    return ConfigError(
        f"{project.pyproject_path}: tool.maturin.targets names no target that "
        f"{project.bindings.kind} bindings build from {project.manifest_path} (those are: {names}).",
        project.pyproject_path,
        "tool.maturin.targets",
    )


def selected_bins(project: Project) -> List[str]:
    """The names of the ``[[bin]]`` targets the wheel holds."""
    enabled = set(_root_features(project))
    bins = [
        t
        for t in project.bin_targets
        if all(f in enabled for f in t.get("required-features", []) or [])
    ]
    wanted = project.config.targets
    if not wanted:
        return [str(t["name"]) for t in bins]
    chosen = [t for t in bins if any(_matches(w, t) for w in wanted)]
    if not chosen:
        raise _no_match(project, bins)
    return [str(t["name"]) for t in chosen]


def check_targets(project: Project) -> None:
    """Fail before cargo runs when ``[[tool.maturin.targets]]`` matches nothing the bindings build."""
    if not project.config.targets:
        return
    if not project.bindings.is_lib:
        selected_bins(project)
        return
    lib = project.lib_target
    candidates = [lib] if lib is not None else []
    if not any(_matches(w, t) for w in project.config.targets for t in candidates):
        raise _no_match(project, candidates)
