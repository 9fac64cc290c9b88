"""The metadata being assembled (:class:`Fields`), and the small helpers every source of it uses:
one-sentence errors naming pyproject.toml or Cargo.toml and the key, readme and license file reading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import ConfigError, ProjectError

__all__ = [
    "DEFAULT_LICENSE_GLOBS",
    "GFM_CONTENT_TYPE",
    "NAME_RE",
    "PLAIN_CONTENT_TYPE",
    "PYPROJECT",
    "RST_CONTENT_TYPE",
    "Fields",
    "cargo_error",
    "config_error",
    "content_type",
    "license_target",
    "manifest_of",
    "normalize_path",
    "read_text",
    "single_line",
]


GFM_CONTENT_TYPE = "text/markdown; charset=UTF-8; variant=GFM"


RST_CONTENT_TYPE = "text/x-rst; charset=UTF-8"


PLAIN_CONTENT_TYPE = "text/plain; charset=UTF-8"


# PEP 639's default globs, which maturin applies when `license-files` is absent.
DEFAULT_LICENSE_GLOBS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")


NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


PYPROJECT = "pyproject.toml"


@dataclass
class Fields:
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


def config_error(key: str, problem: str, project_root: Path) -> ConfigError:
    """A ConfigError naming pyproject.toml and the offending key."""
    return ConfigError(f"{PYPROJECT}: {key} {problem}.", path=project_root / PYPROJECT, key=key)


def cargo_error(cargo_package: Mapping[str, Any], key: str, problem: str) -> ConfigError:
    """A ConfigError naming the crate's Cargo.toml and the offending key."""
    manifest = manifest_of(cargo_package) / "Cargo.toml"
    return ConfigError(f"{manifest}: package.{key} {problem}.", path=manifest, key=f"package.{key}")


def manifest_of(cargo_package: Mapping[str, Any]) -> Path:
    """The folder holding the crate's Cargo.toml."""
    manifest_path = cargo_package.get("manifest_path")
    return Path(manifest_path).parent if manifest_path else Path(".")


def content_type(path: Path) -> str:
    """Description-Content-Type guessed from the readme's extension."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return GFM_CONTENT_TYPE
    if suffix == ".rst":
        return RST_CONTENT_TYPE
    return PLAIN_CONTENT_TYPE


def read_text(path: Path, what: str) -> str:
    """Read a UTF-8 text file, turning failures into one ProjectError sentence."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"{what} points to {path}, which cannot be read: {error}."
        raise ProjectError(message, path) from None


def normalize_path(path: Path) -> Path:
    """An absolute path with `..` folded away (without resolving symlinks)."""
    parts: List[str] = []
    for part in path.absolute().parts:
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return Path(*parts)


def license_target(base_dir: Path, source: Path) -> str:
    """Path under licenses/: relative to base_dir, or the bare file name when outside it."""
    try:
        return source.relative_to(base_dir).as_posix()
    except ValueError:
        return source.name


def single_line(text: str) -> str:
    """Join a multi-line description into the one line the Summary header allows."""
    lines = (line.strip() for line in re.split(r"[\r\n]", text))
    return " ".join(line for line in lines if line)
