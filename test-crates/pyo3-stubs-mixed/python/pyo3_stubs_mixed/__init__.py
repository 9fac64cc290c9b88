"""A shelf of items counted in Rust, with a Python helper on top."""

from ._native import Shelf, restock, total_count

__all__ = ["Shelf", "restock", "summary", "total_count"]


def summary(shelf: Shelf) -> str:
    """One line naming every item on the shelf and its count."""
    return ", ".join(f"{name}={count}" for name, count in sorted(shelf.items().items()))
