"""Core metadata of a wheel (METADATA, entry_points.txt, licenses) as maturin 1.16 builds it.

The metadata starts from the Cargo package (as ``cargo metadata`` reports it)
and is then overridden by pyproject.toml's ``[project]`` table. As in maturin,
a Cargo value survives next to a ``[project]`` table only when its PEP 621 key
is listed in ``project.dynamic`` (the version falls back to Cargo's when the
table has none). The text is laid out field for field as maturin writes it
(``Metadata-Version: 2.4``, pep508-rs style requirements) and is checked with
``packaging.metadata`` before it is returned.
"""

from __future__ import annotations

import logging
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from packaging.markers import Marker
from packaging.metadata import Metadata
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import ConfigError, ProjectError

__all__ = ["CoreMetadata", "resolve_metadata"]

logger = logging.getLogger("maturin_nox")

GFM_CONTENT_TYPE = "text/markdown; charset=UTF-8; variant=GFM"
RST_CONTENT_TYPE = "text/x-rst; charset=UTF-8"
PLAIN_CONTENT_TYPE = "text/plain; charset=UTF-8"
# PEP 639's default globs, which maturin applies when `license-files` is absent.
DEFAULT_LICENSE_GLOBS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class CoreMetadata:
    """Everything a wheel's .dist-info needs from Cargo.toml and pyproject.toml."""

    name: str
    version: str
    metadata_text: str
    entry_points_text: Optional[str]
    license_files: Tuple[Tuple[str, Path], ...]
    requires_python: Optional[SpecifierSet]
    scripts: Mapping[str, str]
    gui_scripts: Mapping[str, str]
    extras: Tuple[str, ...]

    def dist_name(self) -> str:
        """The distribution name as written (wheel.py escapes it for file names)."""
        return self.name


@dataclass
class _Fields:
    """The mutable working copy of the metadata while Cargo and pyproject are merged."""

    name: str
    version: str
    summary: Optional[str] = None
    description: Optional[str] = None
    description_content_type: Optional[str] = None
    keywords: Optional[str] = None
    home_page: Optional[str] = None
    author: Optional[str] = None
    author_email: Optional[str] = None
    maintainer: Optional[str] = None
    maintainer_email: Optional[str] = None
    license: Optional[str] = None
    license_expression: Optional[str] = None
    # (path under licenses/, source file), in the order maturin lists them.
    license_files: List[Tuple[str, Path]] = field(default_factory=list)
    classifiers: List[str] = field(default_factory=list)
    requires_dist: List[str] = field(default_factory=list)
    provides_extra: List[str] = field(default_factory=list)
    requires_python: Optional[str] = None
    project_urls: Dict[str, str] = field(default_factory=dict)
    scripts: Dict[str, str] = field(default_factory=dict)
    gui_scripts: Dict[str, str] = field(default_factory=dict)
    entry_points: Dict[str, Dict[str, str]] = field(default_factory=dict)

    def add_license_file(self, target: str, source: Path) -> None:
        """Record a license file once per target path (the later source wins, as in maturin)."""
        for index, (existing, _) in enumerate(self.license_files):
            if existing == target:
                self.license_files[index] = (target, source)
                return
        self.license_files.append((target, source))


def resolve_metadata(
    *,
    cargo_package: Mapping[str, Any],
    pyproject: Optional[Mapping[str, Any]],
    project_root: Path,
) -> CoreMetadata:
    """Build the core metadata from a `cargo metadata` package merged with pyproject's [project]."""
    fields = _from_cargo(cargo_package)
    project = pyproject.get("project") if pyproject is not None else None
    if project is not None:
        if not isinstance(project, Mapping):
            raise _config_error("project", "must be a table", project_root)
        _merge_project(fields, project, project_root)
    text = _render_metadata(fields)
    _validate(text, project_root if project is not None else _manifest_of(cargo_package))
    return CoreMetadata(
        name=fields.name,
        version=fields.version,
        metadata_text=text,
        entry_points_text=_render_entry_points(fields),
        license_files=tuple(fields.license_files),
        requires_python=SpecifierSet(fields.requires_python) if fields.requires_python else None,
        scripts=dict(fields.scripts),
        gui_scripts=dict(fields.gui_scripts),
        extras=tuple(fields.provides_extra),
    )


# ---------------------------------------------------------------- errors


def _config_error(key: str, problem: str, project_root: Path) -> ConfigError:
    """A ConfigError naming pyproject.toml and the offending key."""
    return ConfigError(f"{_PYPROJECT}: {key} {problem}.", path=project_root / _PYPROJECT, key=key)


def _cargo_error(cargo_package: Mapping[str, Any], key: str, problem: str) -> ConfigError:
    """A ConfigError naming the crate's Cargo.toml and the offending key."""
    manifest = _manifest_of(cargo_package) / "Cargo.toml"
    return ConfigError(f"{manifest}: package.{key} {problem}.", path=manifest, key=f"package.{key}")


def _manifest_of(cargo_package: Mapping[str, Any]) -> Path:
    """The folder holding the crate's Cargo.toml."""
    manifest_path = cargo_package.get("manifest_path")
    return Path(manifest_path).parent if manifest_path else Path(".")


# ---------------------------------------------------------------- Cargo


def _from_cargo(package: Mapping[str, Any]) -> _Fields:
    """Map Cargo package fields onto core metadata the way maturin's from_cargo_toml does."""
    manifest_dir = _manifest_of(package)
    raw_version = str(package.get("version", ""))
    try:
        version = str(Version(raw_version))
    except InvalidVersion:
        raise _cargo_error(
            package,
            "version",
            f"{raw_version!r} is not a valid PEP 440 version (Rust's SemVer pre-releases must "
            "look like 1.0.0-alpha.1, 1.0.0-beta.2 or 1.0.0-rc.1)",
        ) from None
    fields = _Fields(name=str(package["name"]), version=version)
    description = package.get("description")
    if description:
        fields.summary = _single_line(str(description))
    authors = [str(a) for a in package.get("authors") or []]
    if authors:
        # Cargo has one authors list; maturin repeats it as Author-email when it holds an address.
        fields.author = ", ".join(authors)
        if "@" in fields.author:
            fields.author_email = fields.author
    keywords = package.get("keywords") or []
    if keywords:
        fields.keywords = ",".join(str(k) for k in keywords)
    fields.license = package.get("license") or None
    fields.home_page = package.get("homepage") or None
    for label, key in (
        ("Homepage", "homepage"),
        ("Documentation", "documentation"),
        ("Source Code", "repository"),
    ):
        if package.get(key):
            fields.project_urls[label] = str(package[key])
    _cargo_readme(fields, package, manifest_dir)
    license_file = package.get("license_file")
    if license_file:
        source = _normalize(manifest_dir / str(license_file))
        if not source.is_file():
            raise _cargo_error(package, "license-file", f"{license_file!r} is not a file")
        fields.add_license_file(_license_target(_normalize(manifest_dir), source), source)
    return fields


def _cargo_readme(fields: _Fields, package: Mapping[str, Any], manifest_dir: Path) -> None:
    """Read Cargo's readme, or guess README.md/.txt/.rst/README as maturin does."""
    readme = package.get("readme")
    if readme in (False, "false"):
        return
    if readme:
        path = manifest_dir / str(readme)
        fields.description = _read_text(path, f"{manifest_dir / 'Cargo.toml'}: package.readme")
        fields.description_content_type = _content_type(path)
        return
    for guess in ("README.md", "README.txt", "README.rst", "README"):
        path = manifest_dir / guess
        if path.exists():
            fields.description = _read_text(path, f"{manifest_dir / 'Cargo.toml'}: readme")
            fields.description_content_type = _content_type(path)
            return


def _content_type(path: Path) -> str:
    """Description-Content-Type guessed from the readme's extension."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return GFM_CONTENT_TYPE
    if suffix == ".rst":
        return RST_CONTENT_TYPE
    return PLAIN_CONTENT_TYPE


def _read_text(path: Path, what: str) -> str:
    """Read a UTF-8 text file, turning failures into one ProjectError sentence."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"{what} points to {path}, which cannot be read: {error}."
        raise ProjectError(message, path) from None


def _normalize(path: Path) -> Path:
    """An absolute path with `..` folded away (without resolving symlinks)."""
    parts: List[str] = []
    for part in path.absolute().parts:
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return Path(*parts)


def _license_target(base_dir: Path, source: Path) -> str:
    """Path under licenses/: relative to base_dir, or the bare file name when outside it."""
    try:
        return source.relative_to(base_dir).as_posix()
    except ValueError:
        return source.name


# ---------------------------------------------------------------- pyproject


def _merge_project(fields: _Fields, project: Mapping[str, Any], root: Path) -> None:
    """Override Cargo's metadata with [project], keeping Cargo values only for dynamic keys."""
    dynamic = set(_string_list(project, "dynamic", root))
    if "name" in dynamic:
        raise _config_error("project.dynamic", "must not list 'name'", root)
    _clear_non_dynamic(fields, dynamic)
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise _config_error("project.name", "must be set to a string", root)
    if not _NAME_RE.match(name):
        raise _config_error("project.name", f"{name!r} is not a valid distribution name", root)
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
        fields.summary = _single_line(description)
    requires_python = _optional_str(project, "requires-python", root)
    if requires_python is not None:
        fields.requires_python = _format_specifiers(
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
            _format_requirement(dep, None, f"project.dependencies[{i}]", root)
            for i, dep in enumerate(deps)
        ]
    _merge_optional_dependencies(fields, project, root)
    _merge_entry_points(fields, project, root)


def _clear_non_dynamic(fields: _Fields, dynamic: set[str]) -> None:
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
    fields: _Fields, project: Mapping[str, Any], dynamic: set[str], root: Path
) -> None:
    """Take project.version when set; like maturin, only warn when it is missing and not dynamic."""
    raw = project.get("version")
    if raw is None:
        if "version" not in dynamic:
            logger.warning(
                "%s: project.version is required unless 'version' is listed in project.dynamic;"
                " using Cargo's version %s.",
                _PYPROJECT,
                fields.version,
            )
        return
    if "version" in dynamic:
        logger.warning(
            "%s: project.dynamic must not list 'version' when project.version is set.", _PYPROJECT
        )
    if not isinstance(raw, str):
        raise _config_error("project.version", "must be a string", root)
    try:
        fields.version = str(Version(raw))
    except InvalidVersion:
        raise _config_error(
            "project.version", f"{raw!r} is not a valid PEP 440 version", root
        ) from None


def _merge_readme(fields: _Fields, project: Mapping[str, Any], root: Path) -> None:
    """project.readme as a path, or a {file|text, content-type} table."""
    readme = project.get("readme")
    if readme is None:
        return
    if isinstance(readme, str):
        path = _project_file(root, readme, "project.readme")
        fields.description = _read_text(path, f"{_PYPROJECT}: project.readme")
        fields.description_content_type = _content_type(path)
        return
    if not isinstance(readme, Mapping):
        raise _config_error("project.readme", "must be a path or a table", root)
    if "file" in readme and "text" in readme:
        raise _config_error("project.readme", "must not set both 'file' and 'text'", root)
    if "file" in readme:
        path = _project_file(
            root, _table_str(readme, "file", "project.readme", root), "project.readme.file"
        )
        fields.description = _read_text(path, f"{_PYPROJECT}: project.readme.file")
    if "text" in readme:
        fields.description = _table_str(readme, "text", "project.readme", root)
    content_type = readme.get("content-type")
    if content_type is not None and not isinstance(content_type, str):
        raise _config_error("project.readme.content-type", "must be a string", root)
    fields.description_content_type = content_type


def _merge_license(fields: _Fields, project: Mapping[str, Any], root: Path) -> None:
    """PEP 639 `license` / `license-files`, the legacy license table, and the default globs."""
    license_ = project.get("license")
    if isinstance(license_, str):
        fields.license_expression = license_
    elif isinstance(license_, Mapping):
        if ("file" in license_) == ("text" in license_):
            problem = "must set exactly one of 'file' and 'text'"
            raise _config_error("project.license", problem, root)
        if "file" in license_:
            relative = _table_str(license_, "file", "project.license", root)
            source = _normalize(_project_file(root, relative, "project.license.file"))
            if not source.is_file():
                raise _config_error("project.license.file", f"{relative!r} is not a file", root)
            fields.add_license_file(_license_target(_normalize(root), source), source)
        else:
            fields.license = _table_str(license_, "text", "project.license", root)
    elif license_ is not None:
        raise _config_error("project.license", "must be an SPDX expression string or a table", root)

    if "license-files" in project:
        globs = _string_list(project, "license-files", root)
        for index, pattern in enumerate(globs):
            glob_problem = _pep639_glob_problem(pattern)
            if glob_problem:
                raise _config_error(f"project.license-files[{index}]", glob_problem, root)
    else:
        globs = DEFAULT_LICENSE_GLOBS
    for pattern in globs:
        for relative in _glob_files(root, pattern):
            fields.add_license_file(relative, root / relative)
            logger.info("Including license file %s", relative)


def _split_contacts(contacts: Any, key: str, root: Path) -> Tuple[Optional[str], Optional[str]]:
    """Split PEP 621 author/maintainer tables into the Name and Name-email header values."""
    if not isinstance(contacts, list):
        raise _config_error(key, "must be an array of tables", root)
    names: List[str] = []
    emails: List[str] = []
    for index, contact in enumerate(contacts):
        if not isinstance(contact, Mapping) or not set(contact) <= {"name", "email"}:
            raise _config_error(
                f"{key}[{index}]", "must be a table with 'name' and/or 'email'", root
            )
        name, email = contact.get("name"), contact.get("email")
        if (name is not None and not isinstance(name, str)) or (
            email is not None and not isinstance(email, str)
        ):
            raise _config_error(f"{key}[{index}]", "must hold strings", root)
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


def _merge_optional_dependencies(fields: _Fields, project: Mapping[str, Any], root: Path) -> None:
    """Append each extra's requirements with an `extra == '...'` marker; list the extras."""
    if "optional-dependencies" not in project:
        return
    table = project["optional-dependencies"]
    if not isinstance(table, Mapping):
        raise _config_error("project.optional-dependencies", "must be a table", root)
    for extra in sorted(table):
        key = f"project.optional-dependencies.{extra}"
        if not _NAME_RE.match(extra):
            raise _config_error(key, "is not a valid extra name", root)
        normalized = canonicalize_name(extra)
        if normalized not in fields.provides_extra:
            fields.provides_extra.append(normalized)
        deps = table[extra]
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise _config_error(key, "must be an array of strings", root)
        fields.requires_dist.extend(
            _format_requirement(dep, normalized, f"{key}[{i}]", root) for i, dep in enumerate(deps)
        )


def _merge_entry_points(fields: _Fields, project: Mapping[str, Any], root: Path) -> None:
    """project.scripts, gui-scripts and entry-points, sorted as maturin's TOML reader gives them."""
    if "scripts" in project:
        fields.scripts = _sorted_table(project, "scripts", root)
    if "gui-scripts" in project:
        fields.gui_scripts = _sorted_table(project, "gui-scripts", root)
    groups = project.get("entry-points")
    if groups is None:
        return
    if not isinstance(groups, Mapping):
        raise _config_error("project.entry-points", "must be a table of tables", root)
    for reserved in ("console_scripts", "gui_scripts"):
        if reserved in groups:
            raise _config_error(
                f"project.entry-points.{reserved}",
                "is not allowed (use project.scripts or project.gui-scripts)",
                root,
            )
    fields.entry_points = {
        group: _sorted_table(groups, group, root, f"project.entry-points.{group}")
        for group in sorted(groups)
    }


# ---------------------------------------------------------------- pyproject value helpers


def _optional_str(table: Mapping[str, Any], key: str, root: Path) -> Optional[str]:
    """A string value of [project], or None when absent."""
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise _config_error(f"project.{key}", "must be a string", root)
    return value


def _table_str(table: Mapping[str, Any], key: str, parent: str, root: Path) -> str:
    """A required string value inside a sub-table."""
    value = table.get(key)
    if not isinstance(value, str):
        raise _config_error(f"{parent}.{key}", "must be a string", root)
    return value


def _string_list(table: Mapping[str, Any], key: str, root: Path) -> Sequence[str]:
    """An array-of-strings value of [project] (empty when absent)."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _config_error(f"project.{key}", "must be an array of strings", root)
    return value


def _sorted_table(
    table: Mapping[str, Any], key: str, root: Path, label: Optional[str] = None
) -> Dict[str, str]:
    """A string-to-string table sorted by key (maturin reads TOML tables in key order)."""
    label = label or f"project.{key}"
    value = table.get(key)
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise _config_error(label, "must be a table of strings", root)
    return {k: value[k] for k in sorted(value)}


def _project_file(root: Path, relative: str, key: str) -> Path:
    """A file named in pyproject.toml: relative, and not escaping the project root."""
    posix = PurePosixPath(relative.replace("\\", "/"))
    if posix.is_absolute() or Path(relative).is_absolute():
        raise _config_error(key, f"path {relative!r} must be relative to pyproject.toml", root)
    path = root / relative
    base = _normalize(root)
    if ".." in posix.parts and base not in _normalize(path).parents:
        raise _config_error(key, f"path {relative!r} resolves outside the project root", root)
    return path


def _single_line(text: str) -> str:
    """Join a multi-line description into the one line the Summary header allows."""
    lines = (line.strip() for line in re.split(r"[\r\n]", text))
    return " ".join(line for line in lines if line)


# ---------------------------------------------------------------- license-files globs


def _pep639_glob_problem(pattern: str) -> Optional[str]:
    """Why a license-files glob breaks PEP 639's restricted syntax, or None when it is fine."""
    at_segment_start = True
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            run = len(pattern[i:]) - len(pattern[i:].lstrip("*"))
            if run >= 3 or (run == 2 and i + 2 < len(pattern) and pattern[i + 2] != "/"):
                return f"glob {pattern!r} has too many stars at position {i}"
            i += run
            at_segment_start = False
            continue
        if c.isalnum() or c in "_-?":
            at_segment_start = False
        elif c == ".":
            if at_segment_start and pattern[i + 1 : i + 2] == ".":
                return f"glob {pattern!r} must not use the parent directory '..'"
            at_segment_start = False
        elif c == "/":
            if i == 0:
                return f"glob {pattern!r} must be relative to pyproject.toml"
            at_segment_start = True
        elif c == "[":
            end = pattern.find("]", i)
            inner = pattern[i + 1 : end] if end != -1 else pattern[i + 1 :]
            bad = [ch for ch in inner if not (ch.isalnum() or ch in "_-.")]
            if end == -1 or bad or not inner:
                return f"glob {pattern!r} has an invalid character range at position {i}"
            i = end
            at_segment_start = False
        elif c == "\\":
            return f"glob {pattern!r} must use forward slashes"
        else:
            return f"glob {pattern!r} has the invalid character {c!r} at position {i}"
        i += 1
    return None


def _segment_regex(segment: str) -> re.Pattern[str]:
    """A regex for one path segment of a PEP 639 glob (`*` does not cross `/`)."""
    out = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = segment.index("]", i)
            # PEP 639: the characters in brackets match verbatim, `-` too (no ranges)
            out.append("[" + "".join(re.escape(ch) for ch in segment[i + 1 : end]) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _glob_files(root: Path, pattern: str) -> List[str]:
    """Files under root matching a PEP 639 glob, as sorted relative POSIX paths."""
    current: List[Tuple[str, ...]] = [()]
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        following: List[Tuple[str, ...]] = []
        for parts in current:
            base = root.joinpath(*parts)
            if segment == "**":
                following.extend(_all_below(base, parts, include_files=last))
                continue
            if not base.is_dir():
                continue
            regex = _segment_regex(segment)
            for entry in sorted(base.iterdir()):
                if regex.match(entry.name):
                    following.append((*parts, entry.name))
        current = list(dict.fromkeys(following))
    files = [parts for parts in current if parts and root.joinpath(*parts).is_file()]
    return ["/".join(parts) for parts in sorted(files)]


def _all_below(base: Path, parts: Tuple[str, ...], include_files: bool) -> List[Tuple[str, ...]]:
    """`**`: the folder itself and every folder (and, at the end, file) below it."""
    found = [parts]
    if not base.is_dir():
        return found
    for entry in sorted(base.iterdir()):
        child = (*parts, entry.name)
        if entry.is_dir() and not entry.is_symlink():
            found.extend(_all_below(entry, child, include_files))
        elif include_files:
            found.append(child)
    return found


# ---------------------------------------------------------------- requirements, pep508-rs style


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


def _format_requirement(raw: str, extra: Optional[str], key: str, root: Path) -> str:
    """Render a PEP 508 requirement the way maturin (pep508-rs) writes Requires-Dist."""
    try:
        requirement = Requirement(raw)
    except InvalidRequirement as error:
        # packaging's message carries a caret diagram on later lines; keep its first line.
        reason = str(error).splitlines()[0].rstrip(".")
        raise _config_error(
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
        text += _format_specifiers(spec, ",", key, root)
    conjunctions = _marker_dnf(requirement.marker) if requirement.marker is not None else [[]]
    if extra is not None:
        conjunctions = [[*conj, ("extra", "==", extra, False)] for conj in conjunctions]
    marker = _render_dnf(conjunctions)
    return f"{text} ; {marker}" if marker else text


def _format_specifiers(raw: str, separator: str, key: str, root: Path) -> str:
    """Version specifiers normalized and sorted by version, as pep440-rs prints them."""
    try:
        specs = [Specifier(part.strip()) for part in raw.split(",") if part.strip()]
        SpecifierSet(raw)
    except InvalidSpecifier:
        raise _config_error(key, f"{raw!r} is not a valid version specifier", root) from None

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


# ---------------------------------------------------------------- rendering and validation


def _fold_header(text: str) -> str:
    """Fold a long License value into 78-column lines with tab continuations, like maturin."""
    lines: List[str] = []
    for paragraph in text.split("\n"):
        indent = "\t" if lines else ""
        wrapped = textwrap.wrap(
            paragraph,
            width=78,
            initial_indent=indent,
            subsequent_indent="\t",
            break_on_hyphens=True,
            replace_whitespace=False,
            drop_whitespace=True,
        )
        lines.extend(line.rstrip() or "\t" for line in (wrapped or [""]))
    return "\r\n".join(lines or [""])


def _render_metadata(fields: _Fields) -> str:
    """The METADATA text, fields in the order maturin's to_vec writes them."""
    headers: List[Tuple[str, str]] = [
        ("Metadata-Version", "2.4"),
        ("Name", fields.name),
        ("Version", fields.version),
    ]
    headers += [("Classifier", c) for c in fields.classifiers]
    headers += [("Requires-Dist", r) for r in fields.requires_dist]
    headers += [("Provides-Extra", e) for e in fields.provides_extra]
    headers += [("License-File", target) for target, _ in fields.license_files]
    optional = [
        ("Summary", fields.summary),
        ("Keywords", fields.keywords),
        ("Home-Page", fields.home_page),
        ("Author", fields.author),
        ("Author-email", fields.author_email),
        ("Maintainer", fields.maintainer),
        ("Maintainer-email", fields.maintainer_email),
        ("License-Expression", fields.license_expression),
        ("License", _fold_header(fields.license) if fields.license is not None else None),
        ("Requires-Python", fields.requires_python),
        ("Description-Content-Type", fields.description_content_type),
    ]
    headers += [(k, v) for k, v in optional if v is not None]
    headers += [("Project-URL", f"{label}, {url}") for label, url in fields.project_urls.items()]
    text = "".join(f"{key}: {value}\n" for key, value in headers)
    if fields.description is not None:
        text += f"\n{fields.description}\n"
    return text


def _render_entry_points(fields: _Fields) -> Optional[str]:
    """entry_points.txt: console_scripts, gui_scripts, then the other groups, or None."""
    groups: List[Tuple[str, Mapping[str, str]]] = []
    if fields.scripts:
        groups.append(("console_scripts", fields.scripts))
    if fields.gui_scripts:
        groups.append(("gui_scripts", fields.gui_scripts))
    groups += list(fields.entry_points.items())
    text = "".join(
        f"[{group}]\n" + "".join(f"{name}={target}\n" for name, target in entries.items())
        for group, entries in groups
    )
    return text or None


def _validate(text: str, where: Path) -> None:
    """Check the METADATA text with packaging, reporting the first problem as one sentence."""
    try:
        Metadata.from_email(text, validate=True)
    except Exception as error:  # packaging raises its own ExceptionGroup backport
        problems = getattr(error, "exceptions", None) or [error]
        raise ConfigError(
            f"The core metadata built from Cargo.toml and {_PYPROJECT} is invalid: {problems[0]}.",
            path=where,
        ) from None
