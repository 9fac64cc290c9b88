"""Check an installed pyo3-ffi-pure wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "pyo3-ffi-pure"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


def raises(exc_type, func, *args):
    """Return True if func(*args) raises exc_type."""
    try:
        func(*args)
    except exc_type:
        return True
    return False


import pyo3_ffi_pure  # noqa: E402

check(
    "site-packages" in pyo3_ffi_pure.__file__,
    f"imported from {pyo3_ffi_pure.__file__}, not an installed wheel",
)
check(pyo3_ffi_pure.sum(40, 2) == 42, "sum(40, 2) != 42")
check(pyo3_ffi_pure.sum(-5, 3) == -2, "sum(-5, 3) != -2")
check(raises(TypeError, pyo3_ffi_pure.sum, 1), "sum(1) did not raise TypeError")
check(raises(TypeError, pyo3_ffi_pure.sum, "a", 1), "sum('a', 1) did not raise TypeError")
check(
    raises(OverflowError, pyo3_ffi_pure.sum, 2**62, 2**62),
    "sum(2**62, 2**62) did not raise OverflowError",
)
check(
    pyo3_ffi_pure.__doc__ == "A module written against the raw pyo3-ffi C API.",
    "module docstring is wrong",
)

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "1.0.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "A module written against the raw pyo3-ffi C API",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Programming Language :: C" in (md.get_all("Classifier") or []), "classifier missing")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
