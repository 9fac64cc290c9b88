"""``maturin-nox build``: build wheels, with maturin's flags."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..builder import build, open_project
from ..options import add_build_arguments, add_output_arguments, options_from_args

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Build the wheels (and the sdist with --sdist)."""
    opts = options_from_args(args, out_dir=args.out)
    project = open_project(opts)  # cargo metadata once, for the wheels and the sdist
    wheels = build(opts, project=project)
    if args.sdist:
        from ..sdist import build_sdist

        out_dir = opts.out_dir or wheels[0].path.parent
        build_sdist(out_dir=out_dir, cwd=opts.cwd, project=project)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``build`` subcommand."""
    parser = sub.add_parser("build", help="Build the crate into Python wheels")
    add_build_arguments(parser)
    parser.add_argument("-o", "--out", type=Path, help="Output folder (default: target/wheels)")
    parser.add_argument("--sdist", action="store_true", help="Also build a source distribution")
    add_output_arguments(parser)
    parser.set_defaults(func=run)
