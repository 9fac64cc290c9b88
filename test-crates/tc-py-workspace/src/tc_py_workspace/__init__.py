"""The Python package of a workspace project, in src/."""

from ._ext import inc
from .extras.twice import twice

__all__ = ["inc", "twice"]
