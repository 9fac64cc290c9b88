"""Reusable nox sessions: build, develop, test, audit, sdist and publish a Rust/Python project.

In a noxfile::

    from maturin_nox import sessions

    sessions.register(python=["3.9", "3.12"])

registers every session; ``sessions.build(...)``, ``sessions.test(...)`` and
the others register one each. Nothing is registered on import. This package is
the only place maturin-nox imports nox.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import nox

from ..common import TARGET_DIR_ENV
from . import bodies
from .config import DEFAULT_NAMES, SessionConfig

__all__ = [
    "DEFAULT_NAMES",
    "TARGET_DIR_ENV",
    "SessionConfig",
    "audit",
    "build",
    "develop",
    "publish",
    "register",
    "sdist",
    "test",
]

Body = Callable[[nox.Session, SessionConfig], None]

_DOCS: Mapping[str, str] = {
    "build": "Build the wheels for every interpreter into the wheel folder.",
    "develop": "Develop-install into a fresh env and run a command (default: the tests).",
    "test": "Test each built wheel in a fresh env per interpreter; record the results.",
    "audit": "Audit each built wheel (RECORD, metadata, manylinux policy); record the results.",
    "sdist": "Build the source distribution into the wheel folder.",
    "publish": "Upload the wheel folder with twine, only if every wheel passed audit and tests.",
}
_BODIES: Mapping[str, Body] = {
    "build": bodies.build,
    "develop": bodies.develop,
    "test": bodies.test,
    "audit": bodies.audit,
    "sdist": bodies.sdist,
    "publish": bodies.publish,
}


def _add(kind: str, cfg: SessionConfig, name: Optional[str]) -> None:
    """Register one session with nox, without a nox-made virtualenv."""
    body = _BODIES[kind]
    if name is not None:
        cfg = cfg.replace(names={**cfg.names, kind: name})
    session_name = cfg.name(kind)

    def run(session: nox.Session) -> None:
        body(session, cfg)

    run.__name__ = run.__qualname__ = session_name.replace("-", "_")
    run.__doc__ = _DOCS[kind]
    # No python= here: nox would ignore it with venv_backend="none" anyway. The
    # sessions read the interpreters from cfg, or from nox's --force-python (-P).
    # publish runs only when named: a bare `nox` must never upload anything.
    nox.session(name=session_name, venv_backend="none", default=kind != "publish")(run)


def _config(options: Mapping[str, Any]) -> SessionConfig:
    return SessionConfig.make(**options)


def register(
    *,
    python: Union[str, Sequence[str], None] = None,
    wheel_dir: Optional[str] = None,
    project_dir: Optional[str] = None,
    target_dir: Optional[str] = None,
    test_command: Union[str, Sequence[str], None] = None,
    release: bool = False,
    reproducible: bool = True,
    build_options: Optional[Mapping[str, Any]] = None,
    names: Optional[Mapping[str, str]] = None,
    sessions: Sequence[str] = tuple(DEFAULT_NAMES),
) -> SessionConfig:
    """Register the sessions (all six by default) with one configuration; return it."""
    cfg = SessionConfig.make(
        python=python,
        wheel_dir=wheel_dir,
        project_dir=project_dir,
        target_dir=target_dir,
        test_command=test_command,
        release=release,
        reproducible=reproducible,
        build_options=build_options,
        names=names,
    )
    unknown = [s for s in sessions if s not in _BODIES]
    if unknown:
        from ..errors import ConfigError

        raise ConfigError(
            f"Unknown session {unknown[0]!r}; choose from {', '.join(_BODIES)}.", key="sessions"
        )
    for kind in sessions:
        _add(kind, cfg, None)
    return cfg


def build(*, name: Optional[str] = None, **options: Any) -> None:
    """Register the build session alone (options as for :func:`register`)."""
    _add("build", _config(options), name)


def develop(*, name: Optional[str] = None, **options: Any) -> None:
    """Register the develop session alone (one per listed interpreter: develop-3.12...)."""
    _add("develop", _config(options), name)


def test(*, name: Optional[str] = None, **options: Any) -> None:
    """Register the test session alone."""
    _add("test", _config(options), name)


def audit(*, name: Optional[str] = None, **options: Any) -> None:
    """Register the audit session alone."""
    _add("audit", _config(options), name)


def sdist(*, name: Optional[str] = None, **options: Any) -> None:
    """Register the sdist session alone."""
    _add("sdist", _config(options), name)


def publish(*, name: Optional[str] = None, **options: Any) -> None:
    """Register the publish session alone."""
    _add("publish", _config(options), name)
