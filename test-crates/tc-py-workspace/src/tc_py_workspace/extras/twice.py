"""A pure subpackage."""


def twice(x: int) -> int:
    """Double a number."""
    return 2 * x
