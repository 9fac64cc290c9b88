"""Reads data files shipped inside the package and calls the native module."""

import json
import os

from .with_data import count_pairs

__all__ = ["asset_path", "count_pairs", "load_defaults"]


def asset_path(name: str) -> str:
    """Return the path of a packaged asset."""
    return os.path.join(os.path.dirname(__file__), "assets", name)


def load_defaults() -> dict:
    """Load the packaged defaults.json."""
    with open(asset_path("defaults.json"), encoding="utf-8") as f:
        return json.load(f)
