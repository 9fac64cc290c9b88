"""The ``maturin-nox`` command: parses arguments, calls the engine, prints.

Each subcommand lives in its own ``cmd_<name>.py`` module with a
``register(subparsers)`` function that adds its parser and sets ``func`` (a
callable taking the parsed namespace and returning an exit code). Modules are
discovered, so adding a command never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from typing import Any, Callable, Optional, Sequence

from .. import __version__
from ..console import configure_logging
from ..errors import MaturinNoxError

__all__ = ["configure_logging", "main"]

log = logging.getLogger("maturin_nox")


class _Parser(argparse.ArgumentParser):
    """argparse without prefix matching: ``--target`` must never be taken for ``--target-dir``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


# maturin's short names of commands; each command module lists its own in ALIASES too
# (a test keeps the two in step), this copy lets `_wanted` import only the module invoked.
_ALIASES = {"b": "build", "dev": "develop"}


def _command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_"))


def _wanted(argv: Optional[Sequence[str]]) -> Optional[str]:
    """The command module for ``argv``, so that only it is imported (startup time)."""
    args = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args if not a.startswith("-")), None)
    if first is None or any(
        a in ("-h", "--help", "-V", "--version") for a in args[: args.index(first)]
    ):
        return None
    name = "cmd_" + _ALIASES.get(first, first).replace("-", "_")
    return name if name in _command_modules() else None


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The argument parser; with ``argv``, only the command it names is loaded."""
    parser = _Parser(
        prog="maturin-nox",
        description="Build and publish Rust crates as Python packages.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"maturin-nox {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        dest="global_verbose",
        action="count",
        default=0,
        help="Use verbose output (before or after the command): debug logging, cargo -v; -vv: cargo -vv",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    wanted = _wanted(argv)
    for name in [wanted] if wanted else _command_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser(list(sys.argv[1:]) if argv is None else argv)
    args = parser.parse_args(argv)
    # -v before the command counts as after it (maturin's -v is global)
    verbose = (getattr(args, "verbose", 0) or 0) + args.global_verbose
    if verbose:
        args.verbose = verbose
    del args.global_verbose
    logger = logging.getLogger("maturin_nox")
    saved = (logger.level, list(logger.handlers))
    configure_logging(verbose, bool(getattr(args, "quiet", False)))
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(func(args) or 0)
    except MaturinNoxError as exc:
        print(f"💥 maturin-nox failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("💥 maturin-nox: interrupted.", file=sys.stderr)
        return 130
    finally:  # leave logging as it was, for callers that run main() in-process
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
