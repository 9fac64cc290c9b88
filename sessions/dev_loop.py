"""Develop loop: install the crate into a fresh environment for one Python and run the tests.

Copy this file into your project as ``noxfile.py``, or run it from the project
folder with ``nox -f path/to/dev_loop.py``::

    nox -s develop                          # develop-install, then pytest on tests/
    nox -s develop -- pytest -x -k slow     # any command, run in that environment
    nox -s build test                       # the same check on a real wheel
    nox -s develop -P 3.12                  # another interpreter for this run

The interpreter is the first of $MATURIN_NOX_PYTHONS (``3.12`` or ``3.9,3.12``),
else the one running nox. Cargo builds in $MATURIN_NOX_TARGET_DIR when set.
"""

from __future__ import annotations

import os
import sys

from maturin_nox import sessions

_listed = [p.strip() for p in os.environ.get("MATURIN_NOX_PYTHONS", "").split(",") if p.strip()]
PYTHON = _listed[0] if _listed else f"{sys.version_info[0]}.{sys.version_info[1]}"

sessions.register(python=[PYTHON], sessions=("develop", "build", "test"))
