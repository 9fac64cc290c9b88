"""maturin-nox: build Rust crates into Python wheels, from Python.

The public API is small::

    import maturin_nox

    wheels = maturin_nox.build(manifest_path="Cargo.toml", interpreters=["3.9", "3.12"])
    for wheel in wheels:
        print(wheel.path, wheel.tag, [i.version_str for i in wheel.interpreters])

Everything else lives in modules named for what they hold (``project``,
``interpreters``, ``metadata``, ``wheel``, ``sdist``, ``audit``, ``venv``,
``upload``, ``sessions``). Attributes are imported lazily so that importing
the package (as the tox plugin entry point does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BuildOptions",
    "BuiltWheel",
    "MaturinNoxError",
    "Project",
    "__version__",
    "build",
    "build_sdist",
    "develop",
    "load_project",
]

_LAZY = {
    "build": "builder",
    "BuildOptions": "options",
    "BuiltWheel": "builder",
    "load_project": "project",
    "Project": "project",
    "MaturinNoxError": "errors",
    "build_sdist": "sdist",
    "develop": "dev_install",
}

if TYPE_CHECKING:  # pragma: no cover
    from .builder import BuiltWheel, build
    from .dev_install import develop
    from .errors import MaturinNoxError
    from .options import BuildOptions
    from .project import Project, load_project
    from .sdist import build_sdist


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'maturin_nox' has no attribute {name!r}")
