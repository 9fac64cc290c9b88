"""``maturin-nox list-python``: show the Python interpreters found on this machine."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import interpreters

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``list-python`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "list-python",
        help="Search and list the available Python installations.",
        description="List the Python interpreters found on PATH and among pyenv's versions.",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON list of the interpreters' details"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print every interpreter `--find-interpreter` would consider."""
    found = interpreters.find_all()
    if args.json:
        rows = [{**i.to_json(), "python_tag": i.python_tag, "abi_tag": i.abi_tag} for i in found]
        print(json.dumps(rows, indent=2))
        return 0
    # The same wording as `maturin list-python`, so scripts parsing it keep working.
    plural = "" if len(found) == 1 else "s"
    print(f"🐍 {len(found)} python interpreter{plural} found:")
    for i in found:
        print(f" - {i.implementation_name} {i.major}.{i.minor}{i.abiflags} at {i.executable}")
    return 0
