"""What the reusable sessions are configured with, and where that puts things on disk.

Free of nox: the session bodies hand in the two folders nox knows (the
noxfile's and the one nox was started from) and get paths back.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

from ..common import TARGET_DIR_ENV, StrPath
from ..errors import ConfigError
from ..options import merge_options

__all__ = ["DEFAULT_NAMES", "SessionConfig"]

DEFAULT_NAMES: Mapping[str, str] = {
    "build": "build",
    "develop": "develop",
    "test": "test",
    "audit": "audit",
    "sdist": "sdist",
    "publish": "publish",
}
_PROJECT_FILES = ("pyproject.toml", "Cargo.toml")


def _tuple(value: Union[str, Sequence[str], None], what: str) -> Optional[Tuple[str, ...]]:
    """A string or a sequence of strings as a tuple (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ConfigError(f"The sessions' {what} must be strings, got {list(items)!r}.", key=what)
    return items


@dataclass(frozen=True)
class SessionConfig:
    """Options shared by every reusable session (see :func:`maturin_nox.sessions.register`)."""

    python: Optional[Tuple[str, ...]] = None  # None: every interpreter found
    wheel_dir: Optional[Path] = None  # None: <project>/target/wheels
    project_dir: Optional[Path] = None  # None: the noxfile's folder, else where nox started
    target_dir: Optional[Path] = None  # None: $MATURIN_NOX_TARGET_DIR, else cargo's default
    test_command: Optional[Tuple[str, ...]] = None  # None: pytest on the project's tests
    release: bool = False
    reproducible: bool = True  # the build session's wheels can be rebuilt byte for byte
    build_options: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_NAMES))

    @classmethod
    def make(
        cls,
        *,
        python: Union[str, Sequence[str], None] = None,
        wheel_dir: Optional[StrPath] = None,
        project_dir: Optional[StrPath] = None,
        target_dir: Optional[StrPath] = None,
        test_command: Union[str, Sequence[str], None] = None,
        release: bool = False,
        reproducible: bool = True,
        build_options: Optional[Mapping[str, Any]] = None,
        names: Optional[Mapping[str, str]] = None,
    ) -> SessionConfig:
        """Check and normalise the keyword options of ``register`` and friends."""
        unknown = sorted(set(names or {}) - set(DEFAULT_NAMES))
        if unknown:
            raise ConfigError(
                f"Unknown session {unknown[0]!r} in names=; the sessions are "
                + ", ".join(DEFAULT_NAMES)
                + ".",
                key="names",
            )
        merge_options(None, build_options or {})  # an unknown key fails when the noxfile loads
        command = shlex.split(test_command) if isinstance(test_command, str) else test_command
        return cls(
            python=_tuple(python, "python"),
            wheel_dir=Path(wheel_dir) if wheel_dir is not None else None,
            project_dir=Path(project_dir) if project_dir is not None else None,
            target_dir=Path(target_dir) if target_dir is not None else None,
            test_command=_tuple(command, "test_command"),
            release=release,
            reproducible=reproducible,
            build_options=dict(build_options or {}),
            names={**DEFAULT_NAMES, **(names or {})},
        )

    def replace(self, **changes: Any) -> SessionConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def name(self, session: str) -> str:
        """The name the given session is registered under."""
        return self.names.get(session, session)

    def root(self, noxfile_dir: StrPath, invoked_from: StrPath) -> Path:
        """The project folder: as configured (relative to the noxfile), else found."""
        base = Path(noxfile_dir).absolute()
        if self.project_dir is not None:
            return (base / self.project_dir).resolve()
        # A noxfile inside the project (the usual case) wins; a shared noxfile run
        # with `nox -f path/to/it.py` from a project folder works on that folder.
        for folder in (base, Path(invoked_from).absolute()):
            if any((folder / name).is_file() for name in _PROJECT_FILES):
                return folder
        raise ConfigError(
            f"Neither the noxfile's folder {base} nor {invoked_from} holds a pyproject.toml "
            "or Cargo.toml; pass project_dir= to the sessions.",
            key="project_dir",
        )

    def wheels(self, root: Path) -> Path:
        """The folder wheels are built into and read from."""
        if self.wheel_dir is None:
            return root / "target" / "wheels"
        return (root / self.wheel_dir).resolve()

    def cargo_target_dir(self, root: Path) -> Optional[Path]:
        """The cargo target directory to build in: option, then environment, else cargo's."""
        if self.target_dir is not None:
            return (root / self.target_dir).resolve()
        env = os.environ.get(TARGET_DIR_ENV)
        return Path(env).expanduser().resolve() if env else None
