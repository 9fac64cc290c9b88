"""``maturin-nox develop`` (alias ``dev``): build and install into the active environment,
with maturin's flags."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..options import add_build_arguments, add_output_arguments, options_from_args

__all__ = ["ALIASES", "register", "run"]

ALIASES = ("dev",)


def run(args: argparse.Namespace) -> int:
    """Build the crate and install it (editable for a mixed project)."""
    from ..dev_install import develop

    if getattr(args, "interpreter", None) or getattr(args, "find_interpreter", False):
        raise ConfigError(
            "develop builds for the active environment's interpreter; "
            "drop -i/--interpreter and -f/--find-interpreter (activate another environment instead).",
            key="interpreter",
        )
    result = develop(
        options_from_args(args),
        extras=tuple(args.extras),
        groups=tuple(args.group) if args.group is not None else None,
        skip_install=args.skip_install,
        uv=True if args.uv else None,
        pip_args=tuple(args.pip_arg),
        pip_path=args.pip_path,
    )
    if not result.installed:
        where = f" to {result.extension}" if result.extension else ""
        print(f"🛠 Built {result.name}-{result.version}{where}", file=sys.stderr)
    elif result.changed:
        how = "editable " if result.editable else ""
        print(
            f"🛠 Installed {result.name}-{result.version} ({how}into {result.env.path})",
            file=sys.stderr,
        )
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``develop`` subcommand."""
    parser = sub.add_parser(
        "develop",
        aliases=list(ALIASES),
        help="Build the crate and install it into the active virtualenv (editable when mixed)",
        description=(
            "Build for the interpreter of the active environment ($VIRTUAL_ENV, $CONDA_PREFIX "
            "or a .venv here or above) and install there. Dev profile unless -r/--profile."
        ),
    )
    add_build_arguments(parser, command="develop")
    parser.add_argument(
        "-E",
        "--extras",
        action="append",
        default=[],
        help="Also install these extras' dependencies (comma-separated, repeatable)",
    )
    parser.add_argument(
        "-G",
        "--group",
        action="append",
        default=None,
        help="Also install these PEP 735 dependency groups of pyproject.toml (comma-separated, "
        "repeatable; default: the dev group when there is one)",
    )
    parser.add_argument(
        "--pip-path",
        type=Path,
        default=None,
        metavar="PIP_PATH",
        help="The pip executable to install dependencies with",
    )
    parser.add_argument(
        "--skip-install",
        action="store_true",
        help="Only build the extension module in place (mixed projects); install nothing",
    )
    parser.add_argument(
        "--uv",
        action="store_true",
        help="Use uv to install packages instead of pip (the default in uv-made environments)",
    )
    parser.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="(maturin-nox) Extra argument for pip/uv when installing dependencies (repeatable)",
    )
    add_output_arguments(parser)
    parser.set_defaults(func=run)
