"""Requirements and version specifiers rendered the way maturin (pep508-rs, pep440-rs) writes them:
normalized names, extras and specifiers in the written order, markers as a sorted disjunction."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List, Optional, Tuple

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .fields import config_error

__all__ = ["format_requirement", "format_specifiers"]


# pep508-rs orders marker variables in its decision diagram this way; `extra` comes last.
_VARIABLE_RANK = {
    name: rank
    for rank, name in enumerate(
        [
            "implementation_version",
            "python_full_version",
            "implementation_name",
            "os_name",
            "platform_machine",
            "platform_python_implementation",
            "platform_release",
            "platform_system",
            "platform_version",
            "sys_platform",
        ]
    )
}


_VERSION_VARIABLES = {"python_version", "python_full_version", "implementation_version"}


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!=", "~=": "~="}


_Atom = Tuple[str, str, str, bool]  # (variable, operator, value, value_is_left)


_REQUIREMENT_HEAD = re.compile(
    r"\s*(?P<name>[A-Za-z0-9._-]+)\s*(?:\[(?P<extras>[^\]]*)\])?(?P<spec>.*)", re.DOTALL
)


def format_requirement(raw: str, extra: Optional[str], key: str, root: Path) -> str:
    """Render a PEP 508 requirement the way maturin (pep508-rs) writes Requires-Dist."""
    try:
        requirement = Requirement(raw)
    except InvalidRequirement as error:
        # packaging's message carries a caret diagram on later lines; keep its first line.
        reason = str(error).splitlines()[0].rstrip(".")
        raise config_error(
            key, f"{raw!r} is not a valid PEP 508 requirement ({reason})", root
        ) from None
    text: str = canonicalize_name(requirement.name)
    head = raw.split("@", 1)[0] if requirement.url is not None else raw.split(";", 1)[0]
    parts = _REQUIREMENT_HEAD.match(head)
    assert parts is not None  # packaging accepted the requirement, so its head matches
    # packaging keeps extras and specifiers in sets; pep508-rs keeps the written order.
    extras = [canonicalize_name(e.strip()) for e in (parts.group("extras") or "").split(",")]
    if any(extras):
        text += "[" + ",".join(e for e in extras if e) + "]"
    if requirement.url is not None:
        text += f" @ {requirement.url}"
    elif requirement.specifier:
        spec = parts.group("spec").strip()
        if spec.startswith("(") and spec.endswith(")"):
            spec = spec[1:-1]
        text += format_specifiers(spec, ",", key, root)
    conjunctions = _marker_dnf(requirement.marker) if requirement.marker is not None else [[]]
    if extra is not None:
        conjunctions = [[*conj, ("extra", "==", extra, False)] for conj in conjunctions]
    marker = _render_dnf(conjunctions)
    return f"{text} ; {marker}" if marker else text


def format_specifiers(raw: str, separator: str, key: str, root: Path) -> str:
    """Version specifiers normalized and sorted by version, as pep440-rs prints them."""
    try:
        specs = [Specifier(part.strip()) for part in raw.split(",") if part.strip()]
        SpecifierSet(raw)
    except InvalidSpecifier:
        raise config_error(key, f"{raw!r} is not a valid version specifier", root) from None

    def version_key(spec: Specifier) -> Version:
        try:
            return Version(spec.version[:-2] if spec.version.endswith(".*") else spec.version)
        except InvalidVersion:
            return Version("0")

    rendered = []
    for spec in sorted(specs, key=version_key):
        version = spec.version
        if spec.operator != "===":
            wildcard = version.endswith(".*")
            base = str(Version(version[:-2] if wildcard else version))
            version = base + (".*" if wildcard else "")
        rendered.append(spec.operator + version)
    return separator.join(rendered)


def _marker_dnf(marker: Marker) -> List[List[_Atom]]:
    """A marker as a disjunction of conjunctions of normalized atoms."""
    return _dnf(marker._markers)


def _dnf(items: Any) -> List[List[_Atom]]:
    """DNF of packaging's parsed marker list (`and` binds tighter than `or`)."""
    if isinstance(items, tuple):
        return [[_normalize_atom(items)]]
    disjunction: List[List[_Atom]] = []
    conjunction: List[List[_Atom]] = [[]]
    for item in items:
        if item == "or":
            disjunction.extend(conjunction)
            conjunction = [[]]
        elif item != "and":
            conjunction = [left + right for left in conjunction for right in _dnf(item)]
    disjunction.extend(conjunction)
    return disjunction


def _normalize_atom(item: Tuple[Any, Any, Any]) -> _Atom:
    """One `variable op 'value'` comparison with python_version mapped onto python_full_version."""
    left, op, right = item
    value_is_left = type(left).__name__ == "Value"
    variable, value = (right.value, left.value) if value_is_left else (left.value, right.value)
    operator = str(op.value)
    if value_is_left and operator in _FLIPPED:
        operator, value_is_left = _FLIPPED[operator], False
    if variable == "extra" and operator in ("==", "!="):
        value = canonicalize_name(value)
    if not value_is_left and variable in _VERSION_VARIABLES and operator in _FLIPPED:
        variable, operator, value = _normalize_version_atom(variable, operator, value)
    return (variable, operator, value, value_is_left)


def _normalize_version_atom(variable: str, operator: str, value: str) -> Tuple[str, str, str]:
    """Rewrite python_version comparisons as python_full_version ranges (pep508-rs does)."""
    wildcard = value.endswith(".*")
    try:
        version = Version(value[:-2] if wildcard else value)
    except InvalidVersion:
        return variable, operator, value
    text = str(version) + (".*" if wildcard else "")
    if (
        variable != "python_version"
        or wildcard
        or len(version.release) != 2
        or (version.pre or version.post or version.dev or version.local)
    ):
        return variable, operator, text
    major, minor = version.release
    if operator == "<=":
        return "python_full_version", "<", f"{major}.{minor + 1}"
    if operator == ">":
        return "python_full_version", ">=", f"{major}.{minor + 1}"
    if operator in ("==", "!="):
        return "python_full_version", operator, f"{text}.*"
    return "python_full_version", operator, text


def _atom_sort_key(atom: _Atom) -> Tuple[int, int]:
    """Order atoms by variable as pep508-rs prints them, lower bounds before upper ones."""
    variable, operator, _, value_is_left = atom
    if variable == "extra":
        rank = len(_VARIABLE_RANK) + 1
    elif value_is_left or operator in ("in", "not in"):
        rank = len(_VARIABLE_RANK)
    else:
        rank = _VARIABLE_RANK.get(variable, len(_VARIABLE_RANK))
    bound = 0 if operator in (">", ">=") else 2 if operator in ("<", "<=") else 1
    return (rank, bound if variable in _VERSION_VARIABLES else 0)


def _render_atom(atom: _Atom) -> str:
    """`variable op 'value'` with single quotes, or `'value' op variable`."""
    variable, operator, value, value_is_left = atom
    quoted = f"'{value}'" if "'" not in value else f'"{value}"'
    return f"{quoted} {operator} {variable}" if value_is_left else f"{variable} {operator} {quoted}"


def _render_dnf(conjunctions: List[List[_Atom]]) -> str:
    """Join conjunctions with `or`, parenthesizing them only when there are several."""
    rendered = []
    for conj in conjunctions:
        atoms = sorted(dict.fromkeys(conj), key=_atom_sort_key)
        if atoms:
            rendered.append(" and ".join(_render_atom(a) for a in atoms))
    rendered = list(dict.fromkeys(rendered))
    if len(rendered) <= 1:
        return "".join(rendered)
    return " or ".join(f"({r})" if " and " in r else r for r in rendered)
