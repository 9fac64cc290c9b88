"""A mixed package next to a Rust binary."""

from .helpers import double

__all__ = ["double"]
