"""``maturin-nox upload``: upload wheels and sdists to a package index, as ``maturin upload``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..upload import Outcome, Repository, UploadReport, resolve_repository, upload

__all__ = ["add_upload_arguments", "print_report", "register", "repository_from_args", "run"]


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
    """Resolve the repository and credentials the parsed flags (and environment) ask for."""
    return resolve_repository(
        repository=args.repository,
        repository_url=args.repository_url,
        username=args.username,
        password=args.password,
        non_interactive=args.non_interactive,
        config_file=args.config_file,
    )


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
    parser.add_argument("files", nargs="+", type=Path, metavar="FILES", help="Wheels and sdists.")
    parser.set_defaults(func=run)
