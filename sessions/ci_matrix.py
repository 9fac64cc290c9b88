"""CI matrix: build a wheel per interpreter, test each in a fresh environment, audit them all.

Copy this file into your project as ``noxfile.py``, or run it from the project
folder with ``nox -f path/to/ci_matrix.py``. A bare ``nox`` runs build, test
and audit in that order; ``nox -x`` stops at the first failure. The test
session ends with a table of interpreter, wheel and result, and both test and
audit record their results next to the wheels (``target/wheels``).

The interpreters are $MATURIN_NOX_PYTHONS (``3.9,3.12``) when set, else every
CPython/PyPy found on PATH and in pyenv that the project's requires-python
allows. A listed interpreter that is missing is skipped, or fails the run with
``nox --error-on-missing-interpreters`` (nox's default on CI).
"""

from __future__ import annotations

import os

from maturin_nox import sessions

PYTHONS = [p.strip() for p in os.environ.get("MATURIN_NOX_PYTHONS", "").split(",") if p.strip()]

sessions.register(python=PYTHONS or None, sessions=("build", "test", "audit"))
