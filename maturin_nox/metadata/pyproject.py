"""pyproject.toml's ``[project]`` table laid over the Cargo metadata (PEP 621, PEP 639).

As in maturin, a Cargo value survives next to a ``[project]`` table only when its
PEP 621 key is listed in ``project.dynamic`` (the version falls back to Cargo's
when the table has none)."""

from __future__ import annotations

import keyword
import logging
import re
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..globs import pep639_files, pep639_glob_problem
from .fields import (
    DEFAULT_LICENSE_GLOBS,
    NAME_RE,
    PYPROJECT,
    Fields,
    config_error,
    content_type,
    license_target,
    normalize_path,
    read_text,
    single_line,
)
from .requirements import format_requirement, format_specifiers

logger = logging.getLogger("maturin_nox")

__all__ = ["merge_project"]


def merge_project(fields: Fields, project: Mapping[str, Any], root: Path) -> None:
    """Override Cargo's metadata with [project], keeping Cargo values only for dynamic keys."""
    dynamic = set(_string_list(project, "dynamic", root))
    if "name" in dynamic:
        raise config_error("project.dynamic", "must not list 'name'", root)
    _clear_non_dynamic(fields, dynamic)
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise config_error("project.name", "must be set to a string", root)
    if not NAME_RE.match(name):
        raise config_error("project.name", f"{name!r} is not a valid distribution name", root)
    fields.name = name
    _merge_version(fields, project, dynamic, root)
    _merge_readme(fields, project, root)
    _merge_license(fields, project, root)
    fields_people = (
        ("authors", "author", "author_email"),
        ("maintainers", "maintainer", "maintainer_email"),
    )
    for key, name_attr, email_attr in fields_people:
        if key in project:
            names, emails = _split_contacts(project[key], f"project.{key}", root)
            if names is not None:
                setattr(fields, name_attr, names)
            if emails is not None:
                setattr(fields, email_attr, emails)
    description = _optional_str(project, "description", root)
    if description is not None:
        fields.summary = single_line(description)
    requires_python = _optional_str(project, "requires-python", root)
    if requires_python is not None:
        fields.requires_python = format_specifiers(
            requires_python, ", ", "project.requires-python", root
        )
    if "keywords" in project:
        fields.keywords = ",".join(_string_list(project, "keywords", root))
    if "classifiers" in project:
        fields.classifiers = list(_string_list(project, "classifiers", root))
    if "urls" in project:
        fields.project_urls = _sorted_table(project, "urls", root)
    if "dependencies" in project:
        deps = _string_list(project, "dependencies", root)
        fields.requires_dist = [
            format_requirement(dep, None, f"project.dependencies[{i}]", root)
            for i, dep in enumerate(deps)
        ]
    _merge_optional_dependencies(fields, project, root)
    _merge_entry_points(fields, project, root)


def _clear_non_dynamic(fields: Fields, dynamic: set[str]) -> None:
    """Drop the Cargo values whose PEP 621 key is not listed in project.dynamic."""
    # maturin keeps Home-Page, the Cargo license-file and the version regardless.
    cleared = {
        "description": ("summary",),
        "authors": ("author", "author_email"),
        "maintainers": ("maintainer", "maintainer_email"),
        "keywords": ("keywords",),
        "license": ("license", "license_expression"),
        "readme": ("description", "description_content_type"),
        "requires-python": ("requires_python",),
    }
    for key, attrs in cleared.items():
        if key not in dynamic:
            for attr in attrs:
                setattr(fields, attr, None)
    if "urls" not in dynamic:
        fields.project_urls = {}
    if "classifiers" not in dynamic:
        fields.classifiers = []


def _merge_version(
    fields: Fields, project: Mapping[str, Any], dynamic: set[str], root: Path
) -> None:
    """Take project.version when set; like maturin, only warn when it is missing and not dynamic."""
    raw = project.get("version")
    if raw is None:
        if "version" not in dynamic:
            logger.warning(
                "%s: project.version is required unless 'version' is listed in project.dynamic;"
                " using Cargo's version %s.",
                PYPROJECT,
                fields.version,
            )
        return
    if "version" in dynamic:
        logger.warning(
            "%s: project.dynamic must not list 'version' when project.version is set.", PYPROJECT
        )
    if not isinstance(raw, str):
        raise config_error("project.version", "must be a string", root)
    try:
        fields.version = str(Version(raw))
    except InvalidVersion:
        raise config_error(
            "project.version", f"{raw!r} is not a valid PEP 440 version", root
        ) from None


def _merge_readme(fields: Fields, project: Mapping[str, Any], root: Path) -> None:
    """project.readme as a path, or a {file|text, content-type} table."""
    readme = project.get("readme")
    if readme is None:
        return
    if isinstance(readme, str):
        path = _project_file(root, readme, "project.readme")
        fields.description = read_text(path, f"{PYPROJECT}: project.readme")
        fields.description_content_type = content_type(path)
        return
    if not isinstance(readme, Mapping):
        raise config_error("project.readme", "must be a path or a table", root)
    if "file" in readme and "text" in readme:
        raise config_error("project.readme", "must not set both 'file' and 'text'", root)
    if "file" in readme:
        path = _project_file(
            root, _table_str(readme, "file", "project.readme", root), "project.readme.file"
        )
        fields.description = read_text(path, f"{PYPROJECT}: project.readme.file")
    if "text" in readme:
        fields.description = _table_str(readme, "text", "project.readme", root)
    declared = readme.get("content-type")
    if declared is not None and not isinstance(declared, str):
        raise config_error("project.readme.content-type", "must be a string", root)
    fields.description_content_type = declared


def _merge_license(fields: Fields, project: Mapping[str, Any], root: Path) -> None:
    """PEP 639 `license` / `license-files`, the legacy license table, and the default globs."""
    license_ = project.get("license")
    if isinstance(license_, str):
        fields.license_expression = license_
    elif isinstance(license_, Mapping):
        if ("file" in license_) == ("text" in license_):
            problem = "must set exactly one of 'file' and 'text'"
            raise config_error("project.license", problem, root)
        if "file" in license_:
            relative = _table_str(license_, "file", "project.license", root)
            source = normalize_path(_project_file(root, relative, "project.license.file"))
            if not source.is_file():
                raise config_error("project.license.file", f"{relative!r} is not a file", root)
            fields.add_license_file(license_target(normalize_path(root), source), source)
        else:
            fields.license = _table_str(license_, "text", "project.license", root)
    elif license_ is not None:
        raise config_error("project.license", "must be an SPDX expression string or a table", root)

    if "license-files" in project:
        globs = _string_list(project, "license-files", root)
        for index, pattern in enumerate(globs):
            glob_problem = pep639_glob_problem(pattern)
            if glob_problem:
                raise config_error(f"project.license-files[{index}]", glob_problem, root)
    else:
        globs = DEFAULT_LICENSE_GLOBS
    for pattern in globs:
        for relative in pep639_files(root, pattern):
            fields.add_license_file(relative, root / relative)
            logger.info("Including license file %s", relative)


def _split_contacts(contacts: Any, key: str, root: Path) -> Tuple[Optional[str], Optional[str]]:
    """Split PEP 621 author/maintainer tables into the Name and Name-email header values."""
    if not isinstance(contacts, list):
        raise config_error(key, "must be an array of tables", root)
    names: List[str] = []
    emails: List[str] = []
    for index, contact in enumerate(contacts):
        if not isinstance(contact, Mapping) or not set(contact) <= {"name", "email"}:
            raise config_error(
                f"{key}[{index}]", "must be a table with 'name' and/or 'email'", root
            )
        name, email = contact.get("name"), contact.get("email")
        if (name is not None and not isinstance(name, str)) or (
            email is not None and not isinstance(email, str)
        ):
            raise config_error(f"{key}[{index}]", "must hold strings", root)
        if name and email:
            emails.append(_email_with_display_name(name, email))
        elif name:
            names.append(name)
        elif email:
            emails.append(email)
    return (", ".join(names) or None, ", ".join(emails) or None)


def _email_with_display_name(name: str, email: str) -> str:
    """`Name <email>`, quoting the name when it holds RFC 822 specials."""
    if any(c in '()<>@,;:\\".[]' for c in name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{email}>'
    return f"{name} <{email}>"


def _merge_optional_dependencies(fields: Fields, project: Mapping[str, Any], root: Path) -> None:
    """Append each extra's requirements with an `extra == '...'` marker; list the extras."""
    if "optional-dependencies" not in project:
        return
    table = project["optional-dependencies"]
    if not isinstance(table, Mapping):
        raise config_error("project.optional-dependencies", "must be a table", root)
    for extra in sorted(table):
        key = f"project.optional-dependencies.{extra}"
        if not NAME_RE.match(extra):
            raise config_error(key, "is not a valid extra name", root)
        normalized = canonicalize_name(extra)
        if normalized not in fields.provides_extra:
            fields.provides_extra.append(normalized)
        deps = table[extra]
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise config_error(key, "must be an array of strings", root)
        fields.requires_dist.extend(
            format_requirement(dep, normalized, f"{key}[{i}]", root) for i, dep in enumerate(deps)
        )


def _merge_entry_points(fields: Fields, project: Mapping[str, Any], root: Path) -> None:
    """project.scripts, gui-scripts and entry-points, sorted as maturin's TOML reader gives them.

    Every entry is checked as the entry points specification defines it, so a
    wheel whose console script could never run is refused before cargo runs.
    """
    if "scripts" in project:
        fields.scripts = _entry_table(project, "scripts", root, script=True)
    if "gui-scripts" in project:
        fields.gui_scripts = _entry_table(project, "gui-scripts", root, script=True)
    groups = project.get("entry-points")
    if groups is None:
        return
    if not isinstance(groups, Mapping):
        raise config_error("project.entry-points", "must be a table of tables", root)
    for reserved in ("console_scripts", "gui_scripts"):
        if reserved in groups:
            raise config_error(
                f"project.entry-points.{reserved}",
                "is not allowed (use project.scripts or project.gui-scripts)",
                root,
            )
    for group in groups:
        if not _GROUP_RE.match(group):
            raise config_error(
                f"project.entry-points.{group}",
                "is not a valid entry point group name (dotted words, like 'pkg.plugins')",
                root,
            )
    fields.entry_points = {
        group: _entry_table(groups, group, root, label=f"project.entry-points.{group}")
        for group in sorted(groups)
    }


# An object reference: `importable.module` or `importable.module:object.attr`, with
# the deprecated `[extras]` suffix still accepted (the entry points specification).
_DOTTED = r"[^\W\d]\w*(?:\s*\.\s*[^\W\d]\w*)*"
_OBJECT_REF_RE = re.compile(rf"^\s*{_DOTTED}(?:\s*:\s*{_DOTTED})?\s*(?:\[[\w\s,.-]*\])?\s*$")
_GROUP_RE = re.compile(r"^\w+(?:\.\w+)*$")


def _entry_table(
    table: Mapping[str, Any],
    key: str,
    root: Path,
    *,
    label: Optional[str] = None,
    script: bool = False,
) -> Dict[str, str]:
    """A table of entry points, each name and object reference checked."""
    label = label or f"project.{key}"
    entries = _sorted_table(table, key, root, label)
    for name, reference in entries.items():
        where = f"{label}.{name}"
        if not name or name != name.strip() or "=" in name:
            raise config_error(where, "is not a valid entry point name", root)
        if script and any(c in name for c in "/\\\0"):
            raise config_error(where, "is not a valid script name (no path separators)", root)
        names = re.split(r"[\s.:]+", reference.split("[")[0].strip())
        if not _OBJECT_REF_RE.match(reference) or any(keyword.iskeyword(n) for n in names):
            raise config_error(
                where,
                f"is {reference!r}, which is not an entry point: it must read "
                "'module' or 'module:function' (dotted Python names)",
                root,
            )
        if script and ":" not in reference:
            raise config_error(
                where,
                f"is {reference!r}: a script needs the function to call, as 'module:function'",
                root,
            )
    return entries


def _optional_str(table: Mapping[str, Any], key: str, root: Path) -> Optional[str]:
    """A string value of [project], or None when absent."""
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise config_error(f"project.{key}", "must be a string", root)
    return value


def _table_str(table: Mapping[str, Any], key: str, parent: str, root: Path) -> str:
    """A required string value inside a sub-table."""
    value = table.get(key)
    if not isinstance(value, str):
        raise config_error(f"{parent}.{key}", "must be a string", root)
    return value


def _string_list(table: Mapping[str, Any], key: str, root: Path) -> Sequence[str]:
    """An array-of-strings value of [project] (empty when absent)."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise config_error(f"project.{key}", "must be an array of strings", root)
    return value


def _sorted_table(
    table: Mapping[str, Any], key: str, root: Path, label: Optional[str] = None
) -> Dict[str, str]:
    """A string-to-string table sorted by key (maturin reads TOML tables in key order)."""
    label = label or f"project.{key}"
    value = table.get(key)
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise config_error(label, "must be a table of strings", root)
    return {k: value[k] for k in sorted(value)}


def _project_file(root: Path, relative: str, key: str) -> Path:
    """A file named in pyproject.toml: relative, and not escaping the project root."""
    posix = PurePosixPath(relative.replace("\\", "/"))
    if posix.is_absolute() or Path(relative).is_absolute():
        raise config_error(key, f"path {relative!r} must be relative to pyproject.toml", root)
    path = root / relative
    base = normalize_path(root)
    if ".." in posix.parts and base not in normalize_path(path).parents:
        raise config_error(key, f"path {relative!r} resolves outside the project root", root)
    return path
