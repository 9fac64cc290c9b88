"""Where the engine's log goes when a front asks (plain lines on stderr), and plain tables.

The engine logs to the ``maturin_nox`` logger and prints nothing itself; the
command line and the build backend route it here (the nox sessions and the
tox plugin leave it to nox's and tox's own logging).
"""

from __future__ import annotations

import logging
import sys
from typing import List, Sequence

__all__ = ["configure_logging", "format_table"]


class _Handler(logging.Handler):
    """Prints engine log records plainly: warnings prefixed, info as is."""

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            msg = f"⚠️  Warning: {msg}"
        print(msg, file=sys.stderr, flush=True)


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Route the engine's log records to stderr at the asked verbosity."""
    root = logging.getLogger("maturin_nox")
    for handler in list(root.handlers):
        if isinstance(handler, _Handler):
            root.removeHandler(handler)
    root.addHandler(_Handler())
    if quiet:
        root.setLevel(logging.WARNING)
    elif verbose:
        root.setLevel(logging.DEBUG)
    else:
        root.setLevel(logging.INFO)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """The lines of a left-aligned table with a rule under the headers."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]
