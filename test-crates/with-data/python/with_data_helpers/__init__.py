"""A second top-level pure Python package, shipped through `python-packages`."""


def shout(text: str) -> str:
    """Return text in upper case with an exclamation mark."""
    return text.upper() + "!"
