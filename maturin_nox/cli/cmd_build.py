"""``maturin-nox build``: build wheels, with maturin's flags."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict

from ..builder import BuildOptions, build
from ..config import BINDINGS

__all__ = ["add_build_arguments", "add_output_arguments", "build_options", "register"]


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """-q/-v, shared by every command."""
    parser.add_argument("-q", "--quiet", action="store_true", help="Do not print cargo output")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="Print more (repeatable)"
    )


def add_build_arguments(parser: argparse.ArgumentParser, *, release_default: bool = False) -> None:
    """The build flags shared by build, develop and publish."""
    parser.add_argument("-m", "--manifest-path", type=Path, help="Path to Cargo.toml")
    parser.add_argument(
        "-i",
        "--interpreter",
        action="append",
        default=[],
        metavar="PYTHON",
        help="Python interpreter to build for: a path or a name like 3.12, python3.12, pypy3.9 (repeatable)",
    )
    parser.add_argument(
        "-f",
        "--find-interpreter",
        action="store_true",
        help="Find interpreters on PATH and in pyenv (filtered by requires-python)",
    )
    parser.add_argument(
        "-b",
        "--bindings",
        type=_bindings,
        metavar="{" + ",".join(BINDINGS) + "}",
        help="Which kind of bindings to use (detected by default)",
    )
    if release_default:
        parser.add_argument("--debug", action="store_true", help="Build in debug (dev) mode")
    else:
        parser.add_argument("-r", "--release", action="store_true", help="Build in release mode")
    parser.add_argument("--profile", help="Build with the given cargo profile")
    parser.add_argument("--strip", action="store_true", default=None, help="Strip the library")
    parser.add_argument("--no-strip", dest="strip", action="store_false", help="Do not strip")
    parser.add_argument(
        "-F", "--features", action="append", default=[], help="Cargo features to activate"
    )
    parser.add_argument("--all-features", action="store_true", help="Activate all cargo features")
    parser.add_argument(
        "--no-default-features", action="store_true", help="Do not activate the default features"
    )
    parser.add_argument("--target-dir", type=Path, help="Cargo target directory root")
    parser.add_argument(
        "--compatibility",
        "--manylinux",
        dest="compatibility",
        metavar="TAG",
        help="Platform compatibility: manylinux_X_Y, manylinux2014, musllinux_1_2, linux, off, pypi",
    )
    parser.add_argument(
        "--auditwheel",
        choices=["repair", "check", "warn", "skip"],
        help="What to do when the wheel links libraries outside the policy (default: repair)",
    )
    parser.add_argument(
        "--skip-auditwheel",
        dest="auditwheel",
        action="store_const",
        const="skip",
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--zig", action="store_true", help="Link with zig (cargo-zigbuild) for manylinux2014"
    )
    parser.add_argument("-j", "--jobs", type=int, help="Build this many interpreters at once")
    parser.add_argument(
        "--sccache",
        action="store_true",
        default=None,
        help="Compile through sccache (a shared compile cache; store set by SCCACHE_* variables)",
    )
    parser.add_argument(
        "--no-sccache",
        dest="sccache",
        action="store_false",
        help="Do not compile through sccache, even when RUSTC_WRAPPER names it",
    )
    parser.add_argument(
        "cargo_args", nargs="*", metavar="-- CARGO_ARGS", help="Extra arguments for cargo"
    )


def _bindings(value: str) -> str:
    if value not in BINDINGS:
        raise argparse.ArgumentTypeError(
            f"unknown bindings {value!r}; use one of {', '.join(BINDINGS)}"
        )
    return value


def build_options(args: argparse.Namespace, **extra: Any) -> BuildOptions:
    """Turn parsed build flags into engine options."""
    release = getattr(args, "release", False)
    if hasattr(args, "debug"):
        release = not args.debug
    kwargs: Dict[str, Any] = dict(
        manifest_path=args.manifest_path,
        interpreters=tuple(args.interpreter),
        find_interpreter=args.find_interpreter,
        bindings=args.bindings,
        release=release,
        profile=args.profile,
        strip=args.strip,
        features=tuple(args.features),
        all_features=args.all_features,
        no_default_features=args.no_default_features,
        target_dir=args.target_dir,
        cargo_args=tuple(args.cargo_args),
        compatibility=args.compatibility,
        auditwheel=args.auditwheel,
        zig=args.zig,
        quiet=args.quiet,
        jobs=args.jobs,
        sccache=getattr(args, "sccache", None),
    )
    kwargs.update(extra)
    return BuildOptions(**kwargs)


def run(args: argparse.Namespace) -> int:
    """Build the wheels (and the sdist with --sdist)."""
    opts = build_options(args, out_dir=args.out)
    wheels = build(opts)
    if getattr(args, "sdist", False):
        from ..sdist import build_sdist

        build_sdist(manifest_path=opts.manifest_path, out_dir=opts.out_dir or wheels[0].path.parent)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``build`` subcommand."""
    parser = sub.add_parser("build", help="Build the crate into Python wheels")
    add_build_arguments(parser)
    parser.add_argument("-o", "--out", type=Path, help="Output folder (default: target/wheels)")
    parser.add_argument("--sdist", action="store_true", help="Also build a source distribution")
    add_output_arguments(parser)
    parser.set_defaults(func=run)
