"""``maturin-nox publish``: build, audit and check the wheels and the sdist, then upload them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..console import format_table
from ..gate import TABLE_HEADERS, Verdict
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
        check_sdist=not args.skip_sdist_check,
        show=_show,
    )
    print_report(result.report)
    return 0


def _show(verdict: Verdict) -> None:
    """The gate's table, one row per file, on stderr before anything is uploaded."""
    for line in format_table(TABLE_HEADERS, verdict.table()):
        print(line, file=sys.stderr)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``publish`` subcommand."""
    parser = sub.add_parser(
        "publish",
        help="Build and publish the crate as Python packages to PyPI",
        description="Build the wheels (release profile, stripped, reproducibly) and the sdist, "
        "build every wheel again from the unpacked sdist and compare them byte for byte, audit "
        "every wheel (abi3 wheels with abi3audit), check every file as twine check does, print "
        "the gate's table, and only when every row passed upload them with twine. Credentials "
        "come from the flags, MATURIN_PYPI_TOKEN, MATURIN_USERNAME/MATURIN_PASSWORD, "
        "TWINE_USERNAME/TWINE_PASSWORD or ~/.pypirc.",
    )
    add_build_arguments(parser, command="publish")
    parser.add_argument(
        "--no-sdist", action="store_true", help="Do not upload a source distribution"
    )
    parser.add_argument(
        "--skip-sdist-check",
        action="store_true",
        help="(ours) Upload the wheels built from the checkout without building them again "
        "from the sdist and comparing them byte for byte",
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
