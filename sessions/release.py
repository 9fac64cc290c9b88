"""Release: build release wheels and the sdist, test and audit every wheel, then publish.

Copy this file into your project as ``noxfile.py``, or run it from the project
folder with ``nox -f path/to/release.py``::

    nox                                   # build, sdist, test, audit (never uploads)
    nox -s publish -- --dry-run           # the gate and twine check, no upload
    nox -s publish                        # to PyPI; MATURIN_PYPI_TOKEN or ~/.pypirc
    nox -s publish -- --repository testpypi --skip-existing
    nox -s publish -- --repository-url https://my.index/legacy/

publish uploads only when every wheel in target/wheels has a passing audit and
passing tests recorded for its current bytes, and every file passes twine's
metadata check; otherwise it names the files and reasons and uploads nothing.

Interpreters: $MATURIN_NOX_PYTHONS (``3.9,3.12``), else every one found.
Wheels are built with the release profile unless MATURIN_NOX_RELEASE=0.
"""

from __future__ import annotations

import os

from maturin_nox import sessions

PYTHONS = [p.strip() for p in os.environ.get("MATURIN_NOX_PYTHONS", "").split(",") if p.strip()]
RELEASE = os.environ.get("MATURIN_NOX_RELEASE", "1") != "0"

sessions.register(
    python=PYTHONS or None,
    release=RELEASE,
    sessions=("build", "sdist", "test", "audit", "publish"),
)
