"""Pure Python package shipped next to the `pyo3-bin` binary, which imports it."""


def greet(name: str) -> str:
    """Return the greeting the embedded interpreter prints."""
    return f"Hello from Python, {name}!"
