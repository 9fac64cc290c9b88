"""``python -m maturin_nox``: the same as the ``maturin-nox`` command."""

import sys

from .cli import main

sys.exit(main())
