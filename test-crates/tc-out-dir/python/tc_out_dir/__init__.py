"""Reads the files build scripts wrote, from the installed package."""

from pathlib import Path

from ._native import answer

HERE = Path(__file__).parent

__all__ = ["answer", "generated", "helper_note", "json_files"]


def generated() -> str:
    """The text the crate's build.rs wrote."""
    return (HERE / "generated.txt").read_text()


def helper_note() -> str:
    """The text the helper crate's build.rs wrote."""
    return (HERE / "helper.txt").read_text()


def json_files() -> list:
    """The JSON files below data/, relative to it."""
    return sorted(p.relative_to(HERE / "data").as_posix() for p in (HERE / "data").rglob("*.json"))
