"""Pure Python on top of the uniffi-generated ``uniffi_mixed.shapes`` package."""

import sys

from .shapes import Shape, area, names

__all__ = ["Shape", "area", "names", "total_area", "main"]


def total_area(shapes):
    return sum(area(s) for s in shapes)


def main():
    sizes = [float(arg) for arg in sys.argv[1:]]
    print(total_area([Shape.RECTANGLE(width=w, height=1.0) for w in sizes]))
