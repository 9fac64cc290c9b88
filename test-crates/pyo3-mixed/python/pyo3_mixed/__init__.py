"""Mixed layout: pure Python on top of the native `_native` module."""

from ._native import get_21, sum_as_string
from .pure.greet import greeting

__all__ = ["get_21", "get_42", "greeting", "main", "plugin", "sum_as_string"]


def get_42() -> int:
    """Double the native answer, so both halves run."""
    return get_21() * 2


def main() -> None:
    """Console script `pyo3-mixed-greet`."""
    print(greeting("pyo3-mixed"), get_42())


def plugin() -> str:
    """Target of the `pyo3_mixed.plugins` entry point."""
    return "pyo3-mixed plugin"
