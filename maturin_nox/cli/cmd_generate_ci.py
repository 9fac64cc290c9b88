"""``maturin-nox generate-ci github``: a GitHub Actions workflow running the project's nox sessions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..ci import DEFAULT_PLATFORMS, PLATFORMS, PUBLISH_MODES, github_workflow, workflow_options
from ..errors import ConfigError

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Write the workflow to the output file, or print it for ``-o -``."""
    options = workflow_options(
        args.manifest_path,
        publish=args.publish,
        platforms=args.platform or None,
        zig=args.zig,
        sccache=args.sccache,
    )
    text = github_workflow(options)
    if str(args.output) == "-":
        print(text, end="")
        return 0
    path = Path(args.output)
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ConfigError(f"Cannot write the workflow to {path}: {blocking} is not a folder.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the workflow to {path}: {exc.strerror}.") from None
    print(f"📝 Wrote the GitHub Actions workflow to {path}")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``generate-ci`` subcommand."""
    parser = sub.add_parser(
        "generate-ci",
        help="Generate a CI workflow that builds, tests and publishes with the nox sessions",
        description="Generate a GitHub Actions workflow: build a wheel per platform and every "
        "Python that requires-python allows with the project's nox sessions (rustc through "
        "sccache on the GitHub Actions cache), audit and test each wheel in a job of its own, "
        "build the sdist, and on a tag run the publish gate over everything and publish only "
        "if it passed.",
    )
    parser.add_argument("ci", choices=["github"], help="The CI provider")
    parser.add_argument("-m", "--manifest-path", type=Path, help="Path to Cargo.toml")
    parser.add_argument(
        "-o", "--output", default="-", metavar="PATH", help="Output file (default: - for stdout)"
    )
    parser.add_argument(
        "--publish",
        choices=PUBLISH_MODES,
        default=None,
        help="How the release job authenticates to PyPI: trusted publishing (OIDC) or the "
        "PYPI_API_TOKEN secret (default: tool.maturin.generate-ci.github.trusted-publishing, "
        "else trusted)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        choices=list(PLATFORMS),
        help="An OS and architecture to build and test on, with GitHub's native runner for it "
        "(repeatable; default: the platform tables of tool.maturin.generate-ci.github, else "
        f"{', '.join(DEFAULT_PLATFORMS)})",
    )
    parser.add_argument(
        "--zig",
        action="store_true",
        default=None,
        help="Link the Linux wheels with zig (cargo-zigbuild) for manylinux2014 (glibc 2.17) "
        "(default: tool.maturin.generate-ci.github.zig)",
    )
    parser.add_argument(
        "--no-sccache",
        dest="sccache",
        action="store_false",
        help="Do not compile through sccache on the GitHub Actions cache",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="Print more")
    parser.set_defaults(func=run)
