"""A package in src/ whose extension is built from rust/."""

from ._native import times
from .words import spell

__all__ = ["main", "spell", "times"]


def main() -> None:
    """Console script: print a product in words."""
    print(spell(times(6, 7)))
