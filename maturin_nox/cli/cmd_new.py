"""``maturin-nox new PATH`` and ``maturin-nox init [PATH]``: start a pyo3, cffi or bin project."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List

from ..scaffold import BINDINGS, ProjectSpec, init_project, new_project

__all__ = ["register"]


def _print_result(spec: ProjectSpec, root: Path, written: List[Path]) -> None:
    """List the files and say what to run next."""
    for path in written:
        print(f"  {path.relative_to(root).as_posix()}")
    print(f"✨ Done! Next: cd {root} && nox -s build test")


def _new(args: argparse.Namespace) -> int:
    spec, written = new_project(
        args.path, name=args.name, bindings=args.bindings, mixed=args.mixed, src=args.src
    )
    _print_result(spec, Path(args.path), written)
    return 0


def _init(args: argparse.Namespace) -> int:
    root = args.path if args.path is not None else Path.cwd()
    spec, written = init_project(
        root, name=args.name, bindings=args.bindings, mixed=args.mixed, src=args.src
    )
    _print_result(spec, Path(root), written)
    return 0


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--name", help="The package name (default: the folder name); dashes become '_' on import"
    )
    parser.add_argument(
        "-b", "--bindings", choices=BINDINGS, default="pyo3", help="Which kind of bindings to use"
    )
    parser.add_argument(
        "--mixed", action="store_true", help="Mixed Rust/Python layout: a Python package in python/"
    )
    parser.add_argument(
        "--src",
        action="store_true",
        help="Python-first src layout: the Python package in src/, the crate in rust/ (implies --mixed)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="Print more")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``new`` and ``init`` subcommands."""
    new = sub.add_parser(
        "new",
        help="Create a new Rust/Python project in a new folder",
        description="Create a pyo3, cffi or bin project with a pyproject.toml using maturin-nox, "
        "a tests folder, a noxfile and a CI workflow, so that `nox -s build test` passes.",
    )
    new.add_argument("path", type=Path, metavar="PATH", help="The new project's folder")
    _add_options(new)
    new.set_defaults(func=_new)

    init = sub.add_parser(
        "init",
        help="Create a new Rust/Python project in an existing folder",
        description="Like `new`, in an existing folder (default: the current one); "
        "refuses to overwrite any file.",
    )
    init.add_argument("path", type=Path, nargs="?", metavar="PATH", help="The project folder")
    _add_options(init)
    init.set_defaults(func=_init)
