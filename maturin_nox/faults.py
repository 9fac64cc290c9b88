"""Named points where the test suite interrupts a real run, to prove nothing is left half-written.

``MATURIN_NOX_FAULT=<point>`` kills the process with SIGKILL when it reaches
that point; ``<point>:INT`` sends SIGINT instead (as Ctrl-C would). Unset, a
point costs one comparison. The points are listed where they are reached:
``build:cargo`` (cargo running), ``build:writing`` (a wheel half written),
``build:seeding`` (a cold interpreter's target folder half copied from the first
one's while that one builds), ``build:staged`` (wheels complete, none moved),
``build:moving`` (between two wheels moved into place), ``sdist:writing``, ``install:writing`` (new files
half written), ``install:committing`` (between two renames into place).
"""

from __future__ import annotations

import os
import signal

__all__ = ["point"]

_WANTED = os.environ.get("MATURIN_NOX_FAULT", "")
_fired = False


def point(name: str) -> None:
    """Interrupt the process here if the environment asks for this point (the first time only)."""
    global _fired
    if not _WANTED or _fired:
        return
    wanted, _, how = _WANTED.rpartition(":")
    if how not in ("INT", "KILL"):
        wanted, how = _WANTED, "KILL"
    if wanted == name:
        _fired = True
        os.kill(os.getpid(), signal.SIGINT if how == "INT" else signal.SIGKILL)
