"""The one error root of maturin-nox and its narrow subclasses.

Every user-facing failure is one of these: ``str(error)`` is one readable
sentence naming the file, key or command at fault; the fronts print it and
exit non-zero, without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

__all__ = [
    "ArchiveError",
    "AuditError",
    "BuildError",
    "CargoError",
    "ConfigError",
    "InterpreterError",
    "MaturinNoxError",
    "ProjectError",
    "SccacheError",
    "UploadError",
    "VenvError",
    "WheelError",
]

PathLike = Union[str, Path]


class MaturinNoxError(Exception):
    """Root of every error maturin-nox raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ProjectError(MaturinNoxError):
    """The project on disk is missing, unreadable or inconsistent."""

    def __init__(self, message: str, path: Optional[PathLike] = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ConfigError(ProjectError):
    """A configuration key (pyproject.toml, Cargo.toml, CLI flag) has a bad value."""

    def __init__(
        self, message: str, path: Optional[PathLike] = None, key: Optional[str] = None
    ) -> None:
        super().__init__(message, path)
        self.key = key


class InterpreterError(MaturinNoxError):
    """A Python interpreter could not be found, probed or used."""


class CargoError(MaturinNoxError):
    """A cargo command failed; cargo's own output has already been shown."""

    def __init__(self, message: str, command: Optional[list[str]] = None) -> None:
        super().__init__(message)
        self.command = command


class BuildError(MaturinNoxError):
    """The build could not produce what was asked for."""


class SccacheError(BuildError):
    """sccache was asked for and cannot be used (not installed, server not starting)."""


class WheelError(MaturinNoxError):
    """A wheel file is invalid or could not be written."""

    def __init__(self, message: str, path: Optional[PathLike] = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ArchiveError(WheelError):
    """An archive (wheel or sdist) is unreadable, or unsafe to read or unpack."""


class AuditError(MaturinNoxError):
    """A wheel does not meet the platform policy that was asked for."""


class VenvError(MaturinNoxError):
    """A virtual environment could not be created or used."""


class UploadError(MaturinNoxError):
    """An upload to a package index failed or was refused."""
