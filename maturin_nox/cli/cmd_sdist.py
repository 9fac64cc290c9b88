"""``maturin-nox sdist``: build a source distribution, as ``maturin sdist`` does."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..options import add_output_arguments
from ..sdist import build_sdist

__all__ = ["register"]


def run(args: argparse.Namespace) -> int:
    """Write the sdist; the engine logs where it went."""
    build_sdist(manifest_path=args.manifest_path, out_dir=args.out)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``sdist`` subcommand."""
    parser = sub.add_parser("sdist", help="Build a source distribution (.tar.gz)")
    parser.add_argument("-m", "--manifest-path", type=Path, help="Path to Cargo.toml")
    parser.add_argument("-o", "--out", type=Path, help="Output folder (default: target/wheels)")
    add_output_arguments(parser)
    parser.set_defaults(func=run)
