"""PEP 735 dependency groups: ``[dependency-groups]`` of pyproject.toml, resolved.

A group is a list of requirement strings and ``{include-group = "name"}``
tables; names compare normalized (``Test_Deps`` is ``test-deps``). Used by
``develop -G/--group`` and the PGO training environment.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Sequence

from .errors import ConfigError

if TYPE_CHECKING:
    from .project import Project

__all__ = ["dependency_groups", "group_requirements"]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_groups(project: Project) -> Dict[str, List[Any]]:
    """The ``[dependency-groups]`` table by normalized name (empty when there is none)."""
    where = project.pyproject_path
    table = (project.pyproject or {}).get("dependency-groups", {})
    if not isinstance(table, dict):
        raise ConfigError(
            f"{where}: dependency-groups must be a table of lists.", where, "dependency-groups"
        )
    out: Dict[str, List[Any]] = {}
    for name, entries in table.items():
        if not isinstance(entries, list):
            raise ConfigError(
                f"{where}: dependency-groups.{name} must be a list of requirements and "
                "{include-group = ...} tables.",
                where,
                f"dependency-groups.{name}",
            )
        key = _normalize(name)
        if key in out:
            raise ConfigError(
                f"{where}: dependency-groups has two groups named {key!r} once normalized.",
                where,
                f"dependency-groups.{name}",
            )
        out[key] = entries
    return out


def group_requirements(project: Project, names: Sequence[str]) -> List[str]:
    """The requirement strings of the groups ``names``, include-groups followed, in order."""
    groups = dependency_groups(project)
    where = project.pyproject_path
    out: List[str] = []

    def expand(name: str, chain: List[str]) -> None:
        key = _normalize(name)
        if key not in groups:
            known = ", ".join(sorted(groups)) or "none"
            raise ConfigError(
                f"{where or project.root}: there is no dependency group {name!r} "
                f"(from -G/--group or include-group); the groups are: {known}.",
                where,
                "dependency-groups",
            )
        if key in chain:
            cycle = " -> ".join([*chain, key])
            raise ConfigError(
                f"{where}: dependency-groups include each other in a cycle: {cycle}.",
                where,
                f"dependency-groups.{key}",
            )
        for entry in groups[key]:
            if isinstance(entry, str):
                if entry not in out:
                    out.append(entry)
            elif isinstance(entry, Mapping) and set(entry) == {"include-group"}:
                expand(str(entry["include-group"]), [*chain, key])
            else:
                raise ConfigError(
                    f"{where}: dependency-groups.{key} has an entry {entry!r} that is neither a "
                    "requirement string nor an {include-group = ...} table.",
                    where,
                    f"dependency-groups.{key}",
                )

    for name in names:
        expand(name, [])
    return out
