"""The PEP 517/660 build backend: ``build-backend = "maturin_nox.backend"``.

The hooks only translate: ``config_settings`` (``build-args``, as maturin reads
it) or ``$MATURIN_PEP517_ARGS`` become :class:`BuildOptions` through the same
argument parser as ``maturin-nox build``, and the engine does the rest. As in
maturin, wheels are built for ``sys.executable`` (the interpreter running the
hook) with the release profile and no manylinux audit (``--compatibility
off``) unless the build arguments say otherwise; editable builds use
``tool.maturin.editable-profile`` when set. Progress and cargo's output go to
stderr, which pip shows with ``-v``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Mapping, Optional, TypeVar

from .errors import ConfigError, MaturinNoxError

if TYPE_CHECKING:  # the hooks import the engine lazily: get_requires_* must stay cheap
    from .options import BuildOptions

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

log = logging.getLogger("maturin_nox")

ConfigSettings = Optional[Mapping[str, Any]]
ENV_VAR = "MATURIN_PEP517_ARGS"
_T = TypeVar("_T")


def _parser() -> argparse.ArgumentParser:
    from .options import StrictParser, add_build_arguments, add_output_arguments

    parser = StrictParser(prog="maturin_nox.backend", what="Cannot use the build arguments")
    add_build_arguments(parser)
    add_output_arguments(parser)
    return parser


def build_args(config_settings: ConfigSettings = None) -> List[str]:
    """The build arguments: config_settings ``maturin.build-args``/``build-args``, else the env var."""
    raw: Any = None
    if config_settings:
        raw = config_settings.get("maturin.build-args", config_settings.get("build-args"))
    if raw is None:
        return shlex.split(os.environ.get(ENV_VAR, ""))
    if isinstance(raw, str):
        return shlex.split(raw)
    # pip passes a list when the key is given more than once.
    return [arg for item in raw for arg in shlex.split(str(item))]


def _parse(config_settings: ConfigSettings) -> argparse.Namespace:
    args = build_args(config_settings)
    try:
        return _parser().parse_args(args)
    except ConfigError as exc:
        source = "config_settings build-args" if config_settings else f"${ENV_VAR}"
        raise ConfigError(
            f"{exc.message[:-1]} (from {source}: {shlex.join(args)!r}).", key="build-args"
        ) from None


def hook_options(
    config_settings: ConfigSettings = None,
    *,
    editable: bool = False,
    out_dir: Optional[Path] = None,
) -> BuildOptions:
    """The BuildOptions a hook builds with: the build arguments over the backend's defaults.

    The defaults, as maturin's backend has them: the interpreter running the hook,
    the release profile (unless tool.maturin names one) and no manylinux audit.
    """
    from .options import BuildOptions, options_from_args

    ns = _parse(config_settings)
    _configure_logging(ns)
    base = BuildOptions(
        cwd=Path.cwd(),
        # PEP 517: the interpreter running the hook is the one to build for
        interpreters=(_hook_python(),),
        compatibility="off",  # a local install: no audit
        default_profile="release",
        editable=editable,
        out_dir=out_dir,
    )
    return options_from_args(ns, base)


def _hook_python() -> str:
    """sys.executable, or its base interpreter when asked (maturin's use-base-python).

    Building for the base interpreter lets every venv of it share one cargo build.
    """
    wanted = os.environ.get("MATURIN_PEP517_USE_BASE_PYTHON") in ("1", "true")
    if not wanted and Path("pyproject.toml").is_file():
        from .toml import load_toml

        try:
            config = load_toml(Path("pyproject.toml")).get("tool", {}).get("maturin", {})
        except MaturinNoxError:
            config = {}
        wanted = bool(config.get("use-base-python"))
    base: Optional[str] = getattr(sys, "_base_executable", None)
    if wanted and base and os.path.exists(base):
        return os.path.realpath(base)
    return sys.executable


def _configure_logging(ns: argparse.Namespace) -> None:
    """Route the engine's log to stderr (pip shows it with -v); cargo inherits stderr already."""
    if logging.getLogger().handlers or log.handlers:
        return  # called in-process by a program that set up logging itself: leave it alone
    from .console import configure_logging

    configure_logging(getattr(ns, "verbose", 0), getattr(ns, "quiet", False))


def _hook(func: Callable[..., _T]) -> Callable[..., _T]:
    """Turn our errors into one sentence on stderr and exit 1, as maturin's backend does."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> _T:
        try:
            return func(*args, **kwargs)
        except MaturinNoxError as exc:
            print(f"💥 maturin-nox failed: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None

    return wrapper


@_hook
def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """PEP 517: build one wheel for the running interpreter; return its file name."""
    from .builder import build

    options = hook_options(config_settings, out_dir=Path(wheel_directory).resolve())
    wheels = build(options)
    if len(wheels) != 1:
        raise ConfigError(
            f"A PEP 517 build makes one wheel, but the build arguments asked for {len(wheels)}.",
            key="build-args",
        )
    return wheels[0].path.name


@_hook
def build_editable(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """PEP 660: an editable wheel (.pth to the sources and the extension in the tree if mixed)."""
    from .dev_install import build_editable_wheel

    options = hook_options(config_settings, editable=True)
    return build_editable_wheel(options, Path(wheel_directory).resolve()).name


@_hook
def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """PEP 517: write the source distribution; return its file name."""
    from .sdist import build_sdist as write_sdist

    ns = _parse(config_settings)
    _configure_logging(ns)
    manifest = getattr(ns, "manifest_path", None)
    path = write_sdist(manifest, out_dir=Path(sdist_directory).resolve(), cwd=Path.cwd())
    return path.name


def _needs_cffi() -> bool:
    """Whether the project in the cwd uses cffi bindings, read from the manifests without cargo."""
    if platform.python_implementation() == "PyPy":  # PyPy ships cffi
        return False
    from .toml import load_toml

    try:
        pyproject = load_toml(Path("pyproject.toml")) if Path("pyproject.toml").is_file() else {}
        maturin = pyproject.get("tool", {}).get("maturin", {})
        bindings = maturin.get("bindings")
        if bindings:
            return bool(bindings == "cffi")
        manifest = Path(maturin.get("manifest-path") or "Cargo.toml")
        if not manifest.is_file():
            return False
        cargo = load_toml(manifest)
    except MaturinNoxError:
        return False  # the build hook will report the broken file in one sentence
    deps = set(cargo.get("dependencies", {}))
    for table in cargo.get("target", {}).values():
        deps |= set(table.get("dependencies", {}))
    if deps & {"pyo3", "pyo3-ffi", "cpython", "uniffi"}:
        return False
    # No binding crate: a library is built as cffi, a binary-only crate as bin.
    return "lib" in cargo or (manifest.parent / "src" / "lib.rs").is_file()


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 517: extra build requirements (cffi for cffi projects)."""
    return ["cffi"] if _needs_cffi() else []


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 660: the same as for a wheel."""
    return get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 517: an sdist needs nothing extra."""
    return []


@_hook
def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    """PEP 517: write ``<dist>.dist-info`` (METADATA, entry points, licenses) without compiling."""
    from .builder import open_project
    from .payload import dist_info_files
    from .plan import platform_tag, resolve_plan
    from .wheel import WheelWriter

    options = hook_options(config_settings)
    plan = resolve_plan(open_project(options), options)
    project = plan.project
    tags = [
        tag for t in plan.targets for tag in t.tags([platform_tag(t.interpreter, project.config)])
    ]
    out = Path(metadata_directory)
    writer = WheelWriter(out, project.name, project.version, tags)
    files = dist_info_files(project)
    files["WHEEL"] = writer.wheel_file().encode()
    for relpath, data in files.items():
        dest = out / writer.dist_info / relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    log.info(f"📝 Wrote {out / writer.dist_info}")
    return writer.dist_info


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    """PEP 660: the same metadata as for a wheel."""
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)
