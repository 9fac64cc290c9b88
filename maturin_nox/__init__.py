"""maturin-nox: build Rust crates into Python wheels, from Python."""

from __future__ import annotations

__version__ = "0.1.0"
