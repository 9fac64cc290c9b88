"""Check an installed rust-cpython wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "rust-cpython"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import rust_cpython  # noqa: E402

check(
    "site-packages" in rust_cpython.__file__,
    f"imported from {rust_cpython.__file__}, not an installed wheel",
)
check(rust_cpython.sum(40, 2) == 42, "sum(40, 2) != 42")
check(rust_cpython.repeat("ab", 3) == "ababab", "repeat('ab', 3) != 'ababab'")
check(
    rust_cpython.__doc__ == "A module built with the rust-cpython bindings.",
    "module docstring is wrong",
)
try:
    rust_cpython.sum("a", 1)
except TypeError:
    pass
else:
    failures.append("sum('a', 1) did not raise TypeError")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.2.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "A module built with the rust-cpython bindings",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Programming Language :: Rust" in (md.get_all("Classifier") or []), "classifier missing")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
