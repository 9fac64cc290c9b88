"""What a build is asked for: :class:`BuildOptions`, and the flags that set them.

Every front reads its flags through this module: the command line, the PEP 517
backend (``build-args`` / ``$MATURIN_PEP517_ARGS``), the nox sessions'
posargs. The flag definitions put nothing in the parsed namespace for a flag
that was not given (``argparse.SUPPRESS``), so :func:`options_from_args` lays
only what was asked for over a base: a session's noxfile options, the
backend's defaults. Long flags never match by prefix (``--target`` is not
``--target-dir``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

from .compression import METHODS
from .config import AUDIT_MODES, BINDINGS
from .errors import ConfigError

if TYPE_CHECKING:
    from .upload import Repository

__all__ = [
    "COMMANDS",
    "BuildOptions",
    "StrictParser",
    "add_build_arguments",
    "add_output_arguments",
    "add_upload_arguments",
    "bindings_kind",
    "merge_options",
    "options_from_args",
    "repository_from_args",
]

_SUPPRESS = argparse.SUPPRESS


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build can be asked for; the flags of ``maturin-nox build``.

    The cargo fields (``jobs``, ``locked``, ``frozen``, ``offline``, ``config``,
    ``unstable_flags``, ``timings``, ``ignore_rust_version``, ``color``,
    ``future_incompat_report``, ``verbose``, ``target``) are passed to cargo as
    maturin passes them; ``rustc_args`` are what follows ``--`` on the command
    line (they go to rustc, after cargo's own ``--``); ``cargo_args`` are extra
    arguments for cargo itself, for API callers.
    """

    manifest_path: Optional[Path] = None
    interpreters: Tuple[str, ...] = ()
    find_interpreter: bool = False
    bindings: Optional[str] = None
    out_dir: Optional[Path] = None
    release: bool = False
    profile: Optional[str] = None
    strip: Optional[bool] = None
    features: Tuple[str, ...] = ()
    all_features: bool = False
    no_default_features: bool = False
    target_dir: Optional[Path] = None
    cargo_args: Tuple[str, ...] = ()
    compatibility: Tuple[str, ...] = ()
    auditwheel: Optional[str] = None
    zig: bool = False
    quiet: bool = False
    jobs: Optional[int] = None  # cargo's -j
    cwd: Optional[Path] = None
    # An editable or develop install: tool.maturin.editable-profile applies.
    editable: bool = False
    # The profile when no flag and no tool.maturin key names one (the backend builds release).
    default_profile: str = "dev"
    interpreter_jobs: Optional[int] = None  # ours: how many interpreters build at once
    target: Optional[str] = None  # a Rust target triple; $CARGO_BUILD_TARGET when unset
    rustc_args: Tuple[str, ...] = ()
    locked: bool = False
    frozen: bool = False
    offline: bool = False
    config: Tuple[str, ...] = ()  # cargo --config KEY=VALUE
    unstable_flags: Tuple[str, ...] = ()  # cargo -Z FLAG
    timings: bool = False
    ignore_rust_version: bool = False
    color: Optional[str] = None
    future_incompat_report: bool = False
    verbose: int = 0
    compression_method: Optional[str] = None  # None: stored for dev/editable, else deflated
    compression_level: Optional[int] = None
    compression_large_file: bool = False
    include_debuginfo: bool = False
    sbom_include: Tuple[str, ...] = ()
    generate_stubs: bool = False
    pgo: bool = False
    # ours: compile through sccache (None: MATURIN_NOX_SCCACHE, [tool.maturin-nox], RUSTC_WRAPPER)
    sccache: Optional[bool] = None
    # ours: build so that another location gives the same bytes (the release gate's builds)
    reproducible: bool = False
    source_date_epoch: Optional[int] = None  # the archives' timestamps; else $SOURCE_DATE_EPOCH

    def replace(self, **changes: Any) -> BuildOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)


_TUPLES = (
    "interpreters",
    "features",
    "cargo_args",
    "rustc_args",
    "config",
    "unstable_flags",
    "compatibility",
    "sbom_include",
)
_PATHS = ("manifest_path", "out_dir", "target_dir", "cwd")


def merge_options(options: Optional[BuildOptions], changes: Mapping[str, Any]) -> BuildOptions:
    """``options`` (or the defaults) with keyword changes, lists and strings made tuples and paths."""
    opts = options or BuildOptions()
    if not changes:
        return opts
    fields = {f.name for f in dataclasses.fields(BuildOptions)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ConfigError(
            f"Unknown build option {unknown[0]!r}; the options are the fields of "
            f"maturin_nox.BuildOptions: {', '.join(sorted(fields))}.",
            key=unknown[0],
        )
    kwargs: Dict[str, Any] = dict(changes)
    for key in _TUPLES:
        value = kwargs.get(key)
        if isinstance(value, (str, Path)):
            kwargs[key] = (str(value),)
        elif isinstance(value, list):
            kwargs[key] = tuple(str(v) for v in value)
    for key in _PATHS:
        if kwargs.get(key) is not None:
            kwargs[key] = Path(kwargs[key])
    return dataclasses.replace(opts, **kwargs)


class StrictParser(argparse.ArgumentParser):
    """An argument parser that raises a one-sentence ConfigError instead of exiting.

    Used where flags come from somewhere other than a terminal (build-args, posargs).
    """

    def __init__(self, *args: Any, what: str = "Bad arguments", **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self.what = what

    def error(self, message: str) -> Any:  # argparse's signature says NoReturn
        raise ConfigError(f"{self.what}: {message}.", key=self.prog)


def bindings_kind(value: str) -> str:
    """argparse type of -b/--bindings: one of the known kinds."""
    if value not in BINDINGS:
        raise argparse.ArgumentTypeError(
            f"unknown bindings {value!r}; use one of {', '.join(BINDINGS)}"
        )
    return value


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be 1 or more")
    return number


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


def _strip_value(value: str) -> bool:
    """``--strip true|false`` (or $MATURIN_STRIP), as clap reads a bool."""
    key = value.strip().lower()
    if key in ("true", "1", "yes", "on"):
        return True
    if key in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(
        f"{value!r} is not true or false (from --strip or $MATURIN_STRIP)"
    )


def _compatibility(value: str) -> str:
    from .platform_tags import parse_compatibility

    try:
        return parse_compatibility(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.message.rstrip(".")) from None


def _falsey_env(name: str) -> Any:
    """True when the variable is set to something other than a falsey value, else no default.

    As clap's FalseyValueParser: unset, empty, 0, false, no, off and n mean false.
    """
    value = os.environ.get(name)
    if value is None or value.strip().lower() in ("", "0", "false", "no", "off", "n", "f"):
        return _SUPPRESS
    return True


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """-q/-v, shared by every command; with a build, -v and -vv also go to cargo."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=_SUPPRESS,
        help="Do not print cargo log messages",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=_SUPPRESS,
        help="Use verbose output: debug logging, and cargo -v (-vv: cargo -vv, build.rs output)",
    )


COMMANDS = ("build", "develop", "publish")


def add_build_arguments(parser: argparse.ArgumentParser, *, command: str = "build") -> None:
    """The build flags of ``maturin build`` (or ``develop``, ``publish``), defined once.

    The PEP 517 backend's build-args and the nox sessions' posargs take the
    ``build`` set. Nothing lands in the namespace for a flag that was not given
    (environment defaults aside: $MATURIN_STRIP for ``--strip``, $MATURIN_PGO for ``--pgo``).
    """
    if command not in COMMANDS:
        raise ValueError(f"command must be one of {COMMANDS}, not {command!r}")
    add = parser.add_argument
    add("-m", "--manifest-path", type=Path, default=_SUPPRESS, help="Path to Cargo.toml")
    add(
        "-i",
        "--interpreter",
        nargs="*",
        action="extend",
        default=_SUPPRESS,
        metavar="PYTHON",
        help="The Python versions to build wheels for: paths or names like 3.12, python3.12, "
        "pypy3.9 (several after one -i, or -i repeated)",
    )
    add(
        "-f",
        "--find-interpreter",
        action="store_true",
        default=_SUPPRESS,
        help="Find interpreters on PATH and in pyenv (filtered by requires-python)",
    )
    add(
        "-b",
        "--bindings",
        type=bindings_kind,
        default=_SUPPRESS,
        metavar="{" + ",".join(BINDINGS) + "}",
        help="Which kind of bindings to use (detected by default)",
    )
    if command == "publish":
        add(
            "--debug", action="store_true", default=_SUPPRESS, help="Do not pass --release to cargo"
        )
        add(
            "--no-strip",
            dest="strip",
            action="store_false",
            default=_SUPPRESS,
            help="Do not strip the library for minimum file size",
        )
    else:
        add(
            "-r",
            "--release",
            action="store_true",
            default=_SUPPRESS,
            help="Build artifacts in release mode, with optimizations",
        )
        add(
            "--strip",
            nargs="?",
            const=True,
            type=_strip_value,
            default=os.environ.get("MATURIN_STRIP", _SUPPRESS) if command == "build" else _SUPPRESS,
            metavar="true|false",
            help="Strip the library for minimum file size (--strip alone: true)"
            + (" [env: MATURIN_STRIP]" if command == "build" else ""),
        )
        add(
            "--no-strip",
            dest="strip",
            action="store_false",
            default=_SUPPRESS,
            help="(maturin-nox) Do not strip, whatever tool.maturin.strip says",
        )
    add(
        "--pgo",
        action="store_true",
        default=_falsey_env("MATURIN_PGO"),
        help="Build with profile-guided optimization: instrumented build, tool.maturin.pgo-command, "
        "optimized rebuild [env: MATURIN_PGO]",
    )
    add(
        "--profile",
        default=_SUPPRESS,
        metavar="PROFILE-NAME",
        help="Build with the given cargo profile",
    )
    add(
        "-F",
        "--features",
        action="append",
        default=_SUPPRESS,
        help="Space or comma separated list of features to activate (replaces tool.maturin.features)",
    )
    add(
        "--all-features",
        action="store_true",
        default=_SUPPRESS,
        help="Activate all available features",
    )
    add(
        "--no-default-features",
        action="store_true",
        default=_SUPPRESS,
        help="Do not activate the `default` feature",
    )
    add(
        "--target",
        default=_SUPPRESS,
        metavar="TRIPLE",
        help="Build for the target triple [env: CARGO_BUILD_TARGET]",
    )
    add(
        "--target-dir",
        type=Path,
        default=_SUPPRESS,
        metavar="DIRECTORY",
        help="Directory for all generated artifacts",
    )
    add(
        "-j",
        "--jobs",
        type=_positive,
        default=_SUPPRESS,
        metavar="N",
        help="Number of parallel cargo jobs",
    )
    add(
        "--frozen",
        action="store_true",
        default=_SUPPRESS,
        help="Require Cargo.lock and cache are up to date",
    )
    add("--locked", action="store_true", default=_SUPPRESS, help="Require Cargo.lock is up to date")
    add(
        "--offline",
        action="store_true",
        default=_SUPPRESS,
        help="Run without accessing the network",
    )
    add(
        "--config",
        action="append",
        default=_SUPPRESS,
        metavar="KEY=VALUE",
        help="Override a cargo configuration value (repeatable; replaces tool.maturin.config)",
    )
    add(
        "-Z",
        dest="unstable_flags",
        action="append",
        default=_SUPPRESS,
        metavar="FLAG",
        help="Unstable (nightly-only) flags to cargo (repeatable; replaces tool.maturin.unstable-flags)",
    )
    add("--timings", action="store_true", default=_SUPPRESS, help="Output a build timing report")
    add(
        "--ignore-rust-version",
        action="store_true",
        default=_SUPPRESS,
        help="Ignore `rust-version` specification in packages",
    )
    add(
        "--color",
        choices=("auto", "always", "never"),
        default=_SUPPRESS,
        metavar="WHEN",
        help="Coloring: auto, always, never",
    )
    add(
        "--future-incompat-report",
        action="store_true",
        default=_SUPPRESS,
        help="Outputs a future incompatibility report at the end of the build",
    )
    if command != "develop":
        add(
            "--compatibility",
            "--manylinux",
            dest="compatibility",
            nargs="*",
            action="extend",
            type=_compatibility,
            default=_SUPPRESS,
            metavar="TAG",
            help="Platform tags and PyPI compatibility: manylinux_X_Y (2_28, manylinux2014, 2014), "
            "musllinux_X_Y, linux (or off), pypi; several values allowed",
        )
        add(
            "--auditwheel",
            choices=AUDIT_MODES,
            default=_SUPPRESS,
            help="Audit wheel for manylinux compliance (default: repair)",
        )
        add(
            "--skip-auditwheel",
            dest="auditwheel",
            action="store_const",
            const="skip",
            default=_SUPPRESS,
            help=argparse.SUPPRESS,
        )
        add(
            "--zig",
            action="store_true",
            default=_SUPPRESS,
            help="Link with zig (cargo-zigbuild) for the chosen manylinux version (default 2_17)",
        )
        add(
            "--sccache",
            action="store_true",
            default=_SUPPRESS,
            help="(ours) Compile through sccache (a shared compile cache; its store is set by "
            "sccache's SCCACHE_* variables)",
        )
        add(
            "--no-sccache",
            dest="sccache",
            action="store_false",
            default=_SUPPRESS,
            help="(ours) Do not compile through sccache, even when RUSTC_WRAPPER names it",
        )
        add(
            "--reproducible",
            action="store_true",
            default=_SUPPRESS,
            help="(ours) Remap the source and target paths and fix the archives' time (the last "
            "commit's, or $SOURCE_DATE_EPOCH), so a build elsewhere gives the same bytes",
        )
        add(
            "--include-debuginfo",
            action="store_true",
            default=_SUPPRESS,
            help="Include the debug info file (.dwp on Linux) in the wheel, "
            "building with -C split-debuginfo=packed",
        )
        add(
            "--sbom-include",
            nargs="+",
            action="extend",
            default=_SUPPRESS,
            metavar="SBOM_INCLUDE",
            help="Additional SBOM files to include in .dist-info/sboms (repeatable)",
        )
        add(
            "--interpreter-jobs",
            type=_positive,
            default=_SUPPRESS,
            metavar="N",
            help=(
                "(maturin-nox) Build this many interpreters at once (default: one per CPU; "
                "a cold matrix: two per CPU, those beyond the CPUs in the background)"
            ),
        )
    add(
        "--compression-method",
        choices=tuple(METHODS),
        default=_SUPPRESS,
        help="Zip compression method (default: stored for dev-profile builds and develop, "
        "else deflated); zstd needs Python 3.14",
    )
    add(
        "--compression-level",
        type=_whole,
        default=_SUPPRESS,
        help="Zip compression level (default: the method's)",
    )
    add(
        "--compression-enable-large-file-support",
        dest="compression_large_file",
        action="store_true",
        default=_SUPPRESS,
        help="Use large file support (zip64) for every member",
    )
    add(
        "--generate-stubs",
        action="store_true",
        default=_SUPPRESS,
        help="Generate Python type stubs from the library (pyo3's experimental-inspect feature)",
    )
    add("rustc_args", nargs="*", default=[], metavar="-- ARGS", help="Rustc flags")


# namespace attribute -> BuildOptions field, for the flags whose names differ
_RENAMED = {"interpreter": "interpreters"}
_FIELDS = frozenset(f.name for f in dataclasses.fields(BuildOptions))


def options_from_args(
    args: argparse.Namespace, base: Optional[BuildOptions] = None, **extra: Any
) -> BuildOptions:
    """``base`` with the flags given in ``args`` laid over it, then ``extra``.

    Only flags that were given are in ``args`` (see :func:`add_build_arguments`),
    so whatever the base says (noxfile options, a front's defaults) holds unless
    a flag says otherwise.
    """
    given: Dict[str, Any] = {}
    for name, value in vars(args).items():
        if name == "debug":
            if value:  # as maturin: --debug is the dev profile, over tool.maturin.profile
                given.update(release=False, profile="dev")
            continue
        if name == "rustc_args" and not value:
            continue
        key = _RENAMED.get(name, name)
        if key in _FIELDS:
            given[key] = value
    given.update(extra)
    return merge_options(base, given)


def add_upload_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the repository, credential and upload flags shared by ``upload`` and ``publish``."""
    group = parser.add_argument_group("upload options")
    group.add_argument(
        "-r",
        "--repository",
        help="The repository (package index) to upload to: a section of the config file "
        "[env: MATURIN_REPOSITORY] [default: pypi].",
    )
    group.add_argument(
        "--repository-url",
        help="The upload URL of the index; overrides --repository [env: MATURIN_REPOSITORY_URL].",
    )
    group.add_argument(
        "-u",
        "--username",
        help="Username for the index [env: MATURIN_USERNAME]; "
        "set MATURIN_PYPI_TOKEN to use an API token instead.",
    )
    group.add_argument(
        "-p",
        "--password",
        help="Password for the index [env: MATURIN_PASSWORD].",
    )
    group.add_argument(
        "--skip-existing",
        action="store_true",
        help="Continue when a file already exists on the index instead of failing.",
    )
    group.add_argument(
        "--non-interactive",
        action="store_true",
        help="Never prompt for missing credentials [env: MATURIN_NON_INTERACTIVE].",
    )
    group.add_argument(
        "--config-file",
        type=Path,
        help="(maturin-nox) The .pypirc file to read repositories and credentials from "
        "[default: ~/.pypirc].",
    )
    group.add_argument(
        "--dry-run",
        action="store_true",
        help="(maturin-nox) Check the files and show where they would go, without contacting "
        "the index.",
    )


def repository_from_args(args: argparse.Namespace) -> Repository:
    """Resolve the repository and credentials the parsed upload flags (and environment) ask for."""
    from .upload import resolve_repository

    return resolve_repository(
        repository=args.repository,
        repository_url=args.repository_url,
        username=args.username,
        password=args.password,
        non_interactive=args.non_interactive,
        config_file=args.config_file,
    )
