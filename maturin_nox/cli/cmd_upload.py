"""``maturin-nox upload``: upload wheels and sdists to a package index, as ``maturin upload``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..options import add_upload_arguments, repository_from_args
from ..upload import Outcome, UploadReport, upload

__all__ = ["print_report", "register", "run"]


def print_report(report: UploadReport) -> None:
    """Print one line per file saying what happened to it."""
    where = report.repository.describe()
    for result in report.files:
        name = result.path.name
        if result.outcome is Outcome.UPLOADED:
            print(f"✨ Uploaded {name} to {report.repository.url}")
        elif result.outcome is Outcome.SKIPPED_EXISTING:
            print(f"⏭️  Skipped {name}: it already exists on {report.repository.url}")
        else:
            print(f"🔍 Would upload {name} to {where}")


def run(args: argparse.Namespace) -> int:
    """Upload the files given on the command line; return the exit code."""
    if not args.files:
        print("⚠️  Warning: No files given, exiting.", file=sys.stderr)  # as maturin
        return 0
    repository = repository_from_args(args)
    report = upload(args.files, repository, skip_existing=args.skip_existing, dry_run=args.dry_run)
    print_report(report)
    return 0


def register(subparsers: Any) -> None:
    """Add the ``upload`` subcommand."""
    parser = subparsers.add_parser(
        "upload",
        help="Upload wheels and sdists to a package index (PyPI by default).",
        description="Check the given wheels and sdists with twine's checks, then upload them "
        "with twine. Credentials come from the flags, MATURIN_PYPI_TOKEN, "
        "MATURIN_USERNAME/MATURIN_PASSWORD, TWINE_USERNAME/TWINE_PASSWORD or ~/.pypirc.",
    )
    add_upload_arguments(parser)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="Show what twine and the index say."
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="Wheels and sdists.")
    parser.set_defaults(func=run)
