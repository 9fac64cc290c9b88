"""``maturin-nox publish``: build, audit and check the wheels and the sdist, then upload them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..options import (
    BuildOptions,
    add_build_arguments,
    add_output_arguments,
    add_upload_arguments,
    options_from_args,
    repository_from_args,
)
from ..publish import publish
from .cmd_upload import print_report

__all__ = ["publish_build_options", "register", "run"]


def publish_build_options(args: argparse.Namespace) -> BuildOptions:
    """The build options of a publish: release unless --debug, stripped unless --no-strip."""
    # maturin publish strips unless --no-strip, whatever pyproject.toml says.
    base = BuildOptions(release=True, strip=True)
    return options_from_args(args, base, out_dir=args.out)


def run(args: argparse.Namespace) -> int:
    """Resolve where to upload first (fail before a long build), then build and publish."""
    if os.environ.get("CI"):
        # As maturin does: on CI nobody can answer a prompt, so a missing secret is an error.
        args.non_interactive = True
    repository = repository_from_args(args)
    options = publish_build_options(args)
    result = publish(
        repository,
        options,
        sdist=not args.no_sdist,
        skip_existing=args.skip_existing,
        dry_run=args.dry_run,
    )
    print_report(result.report)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``publish`` subcommand."""
    parser = sub.add_parser(
        "publish",
        help="Build and publish the crate as Python packages to PyPI",
        description="Build the wheels (release profile, stripped) and the sdist, audit every "
        "wheel, check every file as twine check does, and only when all of that passed upload "
        "them with twine. Credentials come from the flags, MATURIN_PYPI_TOKEN, "
        "MATURIN_USERNAME/MATURIN_PASSWORD, TWINE_USERNAME/TWINE_PASSWORD or ~/.pypirc.",
    )
    add_build_arguments(parser, command="publish")
    parser.add_argument(
        "--no-sdist", action="store_true", help="Do not build a source distribution"
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        help="Output folder for the wheels and sdist (default: target/wheels)",
    )
    add_upload_arguments(parser)
    add_output_arguments(parser)
    parser.set_defaults(func=run)
