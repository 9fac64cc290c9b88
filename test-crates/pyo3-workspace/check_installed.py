"""Check an installed pyo3-workspace wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "pyo3-workspace"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_workspace  # noqa: E402

check(
    "site-packages" in pyo3_workspace.__file__,
    f"imported from {pyo3_workspace.__file__}, not an installed wheel",
)
check(
    [pyo3_workspace.fibonacci(n) for n in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13],
    "fibonacci is wrong",
)
check(pyo3_workspace.fibonacci(90) == 2880067194370816120, "fibonacci(90) is wrong")
check(pyo3_workspace.CRATE_VERSION == "0.3.0", f"CRATE_VERSION is {pyo3_workspace.CRATE_VERSION!r}")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Name"] == "pyo3-workspace", f"Name is {md['Name']!r}")
check(md["Version"] == "0.3.0", f"Version is {md['Version']!r} (workspace.package says 0.3.0)")
check(
    md["Summary"] == "A pyo3 binding that lives in a Cargo workspace member",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Development Status :: 3 - Alpha" in (md.get_all("Classifier") or []), "classifier missing")
check(md["License"] == "MIT", f"License is {md['License']!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
