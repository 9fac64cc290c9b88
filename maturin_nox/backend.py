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
import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, TypeVar

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
    "hook_options",
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
        compatibility=("off",),  # a local install: no audit
        default_profile="release",
        editable=editable,
        out_dir=out_dir,
        target_dir=_sdist_target_dir(),
    )
    return options_from_args(ns, base)


def _pyproject() -> Mapping[str, Any]:
    """The project's pyproject.toml in the hook's folder ({} when unreadable: the hook reports it)."""
    from .toml import load_toml

    try:
        return load_toml(Path("pyproject.toml")) if Path("pyproject.toml").is_file() else {}
    except MaturinNoxError:
        return {}


def _only_backend_requirements(pyproject: Mapping[str, Any]) -> bool:
    """Whether [build-system] requires nothing but maturin-nox: no build script can need the env."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    requires = pyproject.get("build-system", {}).get("requires", [])
    if not isinstance(requires, list):
        return False
    for text in requires:
        try:
            name = canonicalize_name(Requirement(str(text)).name)
        except InvalidRequirement:
            return False
        if name not in ("maturin-nox", "maturin-nox-core"):
            return False
    return True


def _sdist_target_dir() -> Optional[Path]:
    """A lasting cargo target dir for a build from an unpacked sdist in a temporary folder.

    ``python -m build`` and ``uv build`` build the wheel from the sdist they just
    made, unpacked in a new temporary folder each time, whose own ``target/`` is
    gone after the build. Its dependencies are kept in the user's cache instead
    (the crate itself is compiled again: its path is new), unless CARGO_TARGET_DIR
    or --target-dir says where, or MATURIN_NOX_SDIST_CACHE=0.
    """
    import tempfile

    if os.environ.get("CARGO_TARGET_DIR") or os.environ.get("MATURIN_NOX_SDIST_CACHE") == "0":
        return None
    here = Path.cwd().resolve()
    temp = Path(tempfile.gettempdir()).resolve()
    if not (here / "PKG-INFO").is_file() or temp not in here.parents:
        return None
    from .common import cache_root

    name = str(_pyproject().get("project", {}).get("name") or here.name)
    return cache_root() / "sdist-targets" / re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _hook_python() -> str:
    """The interpreter to build for: the one running the hook, by its identity when that is safe.

    Frontends run the hook in a temporary environment (uv and ``python -m build``
    make a new venv each time). Naming the interpreter by its real path keeps
    ``PYO3_PYTHON`` the same from one build to the next, so cargo keeps pyo3's
    build. That is safe unless a build script runs ``PYO3_PYTHON`` to import a
    package of the build environment: then [build-system] requires more than
    maturin-nox, and the environment's own python is used. maturin's
    use-base-python (or MATURIN_PEP517_USE_BASE_PYTHON) asks for the base interpreter.
    """
    pyproject = _pyproject()
    wanted = os.environ.get("MATURIN_PEP517_USE_BASE_PYTHON") in ("1", "true")
    if not wanted:
        config = pyproject.get("tool", {}).get("maturin", {})
        wanted = isinstance(config, dict) and bool(config.get("use-base-python"))
    base: Optional[str] = getattr(sys, "_base_executable", None)
    if wanted and base and os.path.exists(base):
        return os.path.realpath(base)
    if _only_backend_requirements(pyproject):
        return os.path.realpath(sys.executable)
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
    """PEP 517: build one wheel for the running interpreter; return its file name.

    The .dist-info that prepare_metadata_for_build_wheel wrote (pip passes its
    folder) goes into the wheel as it is, as PEP 517 wants them identical.
    """
    from . import warm
    from .builder import build

    warm.join(config_settings)
    options = hook_options(config_settings, out_dir=Path(wheel_directory).resolve())
    wheels = build(options, dist_info=_prepared_dist_info(metadata_directory))
    if len(wheels) != 1:
        raise ConfigError(
            f"A PEP 517 build makes one wheel, but the build arguments asked for {len(wheels)}.",
            key="build-args",
        )
    return wheels[0].path.name


def _prepared_dist_info(metadata_directory: Optional[str]) -> Optional[Dict[str, bytes]]:
    """The files of the .dist-info folder prepare_metadata wrote, without WHEEL and RECORD."""
    if not metadata_directory:
        return None
    folders = [p for p in Path(metadata_directory).glob("*.dist-info") if p.is_dir()]
    if len(folders) != 1:
        return None
    out: Dict[str, bytes] = {}
    for path in sorted(folders[0].rglob("*")):
        relpath = path.relative_to(folders[0]).as_posix()
        if path.is_file() and relpath not in ("WHEEL", "RECORD"):
            out[relpath] = path.read_bytes()
    return out if "METADATA" in out else None


@_hook
def build_editable(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """PEP 660: an editable wheel (.pth to the sources and the extension in the tree if mixed)."""
    from . import warm
    from .dev_install import build_editable_wheel
    from .rebuild import Runner

    warm.join(config_settings, editable=True)
    options = hook_options(config_settings, editable=True)
    # the build environment is gone once the frontend is done: later rebuilds run a copy
    runner = Runner.copied()
    return build_editable_wheel(options, Path(wheel_directory).resolve(), runner=runner).name


@_hook
def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """PEP 517: write the source distribution; return its file name."""
    from .sdist import build_sdist as write_sdist

    ns = _parse(config_settings)
    _configure_logging(ns)
    manifest = getattr(ns, "manifest_path", None)
    path = write_sdist(manifest, out_dir=Path(sdist_directory).resolve(), cwd=Path.cwd())
    return path.name


def _requires(config_settings: ConfigSettings, editable: bool) -> List[str]:
    from . import warm
    from .build_requires import build_requirements

    options = hook_options(config_settings, editable=editable)
    wanted = build_requirements(
        Path.cwd(),
        compatibility=options.compatibility,
        generate_stubs=options.generate_stubs,
        zig=options.zig,
    )
    if not wanted:  # else the compile may need them: it starts at prepare_metadata_*
        warm.start(config_settings, editable=editable)
    return wanted


@_hook
def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 517: what this project's build needs beyond the backend (cffi, the audit's tools, zig...).

    When it needs nothing more, the compile build_wheel will run starts here, in
    the background (:mod:`maturin_nox.warm`).
    """
    return _requires(config_settings, editable=False)


@_hook
def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 660: the same as for a wheel (the warm build is the editable one)."""
    return _requires(config_settings, editable=True)


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 517: an sdist needs nothing extra."""
    return []


@_hook
def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    """PEP 517: write ``<dist>.dist-info`` (METADATA, entry points, licenses) without compiling.

    The compile starts in the background, unless get_requires_* started it.
    """
    return _prepare_metadata(metadata_directory, config_settings, editable=False)


def _prepare_metadata(
    metadata_directory: str, config_settings: ConfigSettings, *, editable: bool
) -> str:
    from . import warm
    from .builder import open_project
    from .payload import dist_info_files
    from .plan import resolve_plan
    from .wheel import WheelWriter

    warm.start(config_settings, editable=editable)
    options = hook_options(config_settings)
    plan = resolve_plan(open_project(options), options)
    project = plan.project
    tags = [tag for t in plan.targets for tag in t.tags([plan.platform(t)])]
    out = Path(metadata_directory)
    writer = WheelWriter(out, project.name, project.version, tags)
    files = dist_info_files(project, plan.sbom_include, plan.path_remap)
    files["WHEEL"] = writer.wheel_file().encode()
    for relpath, data in files.items():
        dest = out / writer.dist_info / relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    log.info(f"📝 Wrote {out / writer.dist_info}")
    return writer.dist_info


@_hook
def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    """PEP 660: the same metadata as for a wheel."""
    return _prepare_metadata(metadata_directory, config_settings, editable=True)
