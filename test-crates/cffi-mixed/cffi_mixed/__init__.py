"""Pure Python helpers over the cffi-wrapped Rust library in `cffi_mixed.cffi_mixed`."""

from .cffi_mixed import ffi, lib
from .shapes import area

__all__ = ["area", "byte_length", "ffi", "lib"]


def byte_length(text: str) -> int:
    """Return the UTF-8 length of text, counted by the Rust side."""
    return int(lib.cffi_mixed_strlen(text.encode("utf-8")))
