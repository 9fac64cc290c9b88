"""The METADATA and entry_points.txt texts, field for field as maturin writes them, checked with
``packaging.metadata``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

from ..errors import ConfigError
from .fields import PYPROJECT, Fields

__all__ = ["render_entry_points", "render_metadata", "validate_metadata"]


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


def render_metadata(fields: Fields) -> str:
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


def render_entry_points(fields: Fields) -> Optional[str]:
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


def validate_metadata(text: str, where: Path) -> None:
    """Check the METADATA text with packaging, reporting the first problem as one sentence.

    A text found valid once (by this packaging version) leaves a marker in the cache, so
    a rebuild with unchanged metadata skips packaging's heavy import and checks.
    """
    import hashlib

    import packaging

    from ..common import cache_root

    key = hashlib.sha256(f"{packaging.__version__}\0{text}".encode()).hexdigest()[:32]
    marker = cache_root() / "valid-metadata" / key
    if marker.is_file():
        return
    _validate(text, where)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # only an optimisation


def _validate(text: str, where: Path) -> None:
    from packaging.metadata import Metadata  # only here: it is a heavy import

    try:
        Metadata.from_email(text, validate=True)
    except Exception as error:  # packaging raises its own ExceptionGroup backport
        problems = getattr(error, "exceptions", None) or [error]
        raise ConfigError(
            f"The core metadata built from Cargo.toml and {PYPROJECT} is invalid: {problems[0]}.",
            path=where,
        ) from None
