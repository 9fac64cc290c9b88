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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

from .config import AUDIT_MODES, BINDINGS
from .errors import ConfigError

if TYPE_CHECKING:
    from .upload import Repository

__all__ = [
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
    """Everything a build can be asked for; the flags of ``maturin-nox build``."""

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
    compatibility: Optional[str] = None
    auditwheel: Optional[str] = None
    zig: bool = False
    quiet: bool = False
    jobs: Optional[int] = None
    cwd: Optional[Path] = None
    # An editable or develop install: tool.maturin.editable-profile applies.
    editable: bool = False
    # The profile when no flag and no tool.maturin key names one (the backend builds release).
    default_profile: str = "dev"
    # .pyi files from pyo3's introspection data (experimental-inspect), as maturin --generate-stubs
    generate_stubs: bool = False

    def replace(self, **changes: Any) -> BuildOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)


_TUPLES = ("interpreters", "features", "cargo_args")
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


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """-q/-v, shared by every command."""
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=_SUPPRESS, help="Do not print cargo output"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=_SUPPRESS, help="Print more (repeatable)"
    )


def add_build_arguments(parser: argparse.ArgumentParser, *, release_default: bool = False) -> None:
    """The build flags shared by build, develop, publish and the fronts that take build-args.

    Nothing lands in the namespace for a flag that was not given.
    """
    add = parser.add_argument
    add("-m", "--manifest-path", type=Path, default=_SUPPRESS, help="Path to Cargo.toml")
    add(
        "-i",
        "--interpreter",
        action="append",
        default=_SUPPRESS,
        metavar="PYTHON",
        help="Python interpreter to build for: a path or a name like 3.12, python3.12, pypy3.9 (repeatable)",
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
    if release_default:
        add("--debug", action="store_true", default=_SUPPRESS, help="Build in debug (dev) mode")
    else:
        add("-r", "--release", action="store_true", default=_SUPPRESS, help="Build in release mode")
    add("--profile", default=_SUPPRESS, help="Build with the given cargo profile")
    add("--strip", action="store_true", default=_SUPPRESS, help="Strip the library")
    add("--no-strip", dest="strip", action="store_false", default=_SUPPRESS, help="Do not strip")
    add(
        "-F",
        "--features",
        action="append",
        default=_SUPPRESS,
        help="Cargo features to activate",
    )
    add(
        "--all-features",
        action="store_true",
        default=_SUPPRESS,
        help="Activate all cargo features",
    )
    add(
        "--no-default-features",
        action="store_true",
        default=_SUPPRESS,
        help="Do not activate the default features",
    )
    add("--target-dir", type=Path, default=_SUPPRESS, help="Cargo target directory root")
    add(
        "--compatibility",
        "--manylinux",
        dest="compatibility",
        default=_SUPPRESS,
        metavar="TAG",
        help="Platform compatibility: manylinux_X_Y, manylinux2014, musllinux_1_2, linux, off, pypi",
    )
    add(
        "--auditwheel",
        choices=AUDIT_MODES,
        default=_SUPPRESS,
        help="What to do when the wheel links libraries outside the policy (default: repair)",
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
        help="Link with zig (cargo-zigbuild) for manylinux2014",
    )
    add(
        "--generate-stubs",
        action="store_true",
        default=_SUPPRESS,
        help='Write .pyi stubs from the library\'s pyo3 introspection data (pyo3 "experimental-inspect")',
    )
    add(
        "-j",
        "--jobs",
        type=_positive,
        default=_SUPPRESS,
        help="Build this many interpreters at once",
    )
    add("cargo_args", nargs="*", default=[], metavar="-- CARGO_ARGS", help="Extra arguments for cargo")


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
            given["release"] = not value
            continue
        if name == "cargo_args" and not value:
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
        help="The .pypirc file to read repositories and credentials from [default: ~/.pypirc].",
    )
    group.add_argument(
        "--dry-run",
        action="store_true",
        help="Check the files and show where they would go, without contacting the index.",
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
