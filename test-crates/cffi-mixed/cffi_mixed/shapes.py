"""Shapes computed through the native multiply."""

from .cffi_mixed import lib


def area(width: float, height: float) -> float:
    """Return the area of a rectangle."""
    return float(lib.cffi_mixed_mul(width, height))
