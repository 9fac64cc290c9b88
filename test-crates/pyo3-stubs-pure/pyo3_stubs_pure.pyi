# A hand-written stub, out of date on purpose: a plain build packs it as
# pyo3_stubs_pure/__init__.pyi, while --generate-stubs replaces it (with a
# warning) by the stubs pyo3's introspection data describes.
def add(a: int, b: int = 1) -> int: ...
