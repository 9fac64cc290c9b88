"""``maturin-nox build`` (alias ``b``): build wheels, with maturin's flags."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..builder import build
from ..options import add_build_arguments, add_output_arguments, options_from_args

__all__ = ["ALIASES", "register", "run"]

ALIASES = ("b",)


def run(args: argparse.Namespace) -> int:
    """Build the wheels; with --sdist, the sdist first and the wheels from it."""
    opts = options_from_args(args, out_dir=args.out)
    if args.sdist:
        from ..from_sdist import build_from_sdist

        build_from_sdist(opts)
    else:
        build(opts)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``build`` subcommand."""
    parser = sub.add_parser(
        "build", aliases=list(ALIASES), help="Build the crate into Python wheels"
    )
    add_build_arguments(parser)
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        help="The directory to store the built wheels in (default: target/wheels)",
    )
    parser.add_argument(
        "--sdist",
        action="store_true",
        help="Build a source distribution and build the wheels from it",
    )
    add_output_arguments(parser)
    parser.set_defaults(func=run)
