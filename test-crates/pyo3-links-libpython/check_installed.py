"""Check an installed pyo3-links-libpython wheel (built with --compatibility linux): run from a
temporary directory, never the source tree."""

import sys

CRATE = "pyo3-links-libpython"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_links_libpython  # noqa: E402

check(
    "site-packages" in pyo3_links_libpython.__file__,
    f"imported from {pyo3_links_libpython.__file__}, not an installed wheel",
)
check(pyo3_links_libpython.double(21) == 42, "double(21) != 42")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
