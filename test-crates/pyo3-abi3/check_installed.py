"""Check an installed pyo3-abi3 wheel: run from a temporary directory, never the source tree."""

import platform
import sys
from importlib import metadata

CRATE = "pyo3-abi3"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_abi3  # noqa: E402

check(
    "site-packages" in pyo3_abi3.__file__,
    f"imported from {pyo3_abi3.__file__}, not an installed wheel",
)
check(pyo3_abi3.mul(6.0, 7.0) == 42.0, "mul(6.0, 7.0) != 42.0")
check(pyo3_abi3.reverse("abc") == "cba", "reverse('abc') != 'cba'")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "1.0.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "One abi3 wheel for every CPython from 3.8 on", f"Summary is {md['Summary']!r}"
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check(
    "Programming Language :: Python :: 3 :: Only" in (md.get_all("Classifier") or []),
    "classifier missing",
)
check(
    "Documentation, https://example.invalid/pyo3-abi3/docs" in (md.get_all("Project-URL") or []),
    f"Project-URL is {md.get_all('Project-URL')!r}",
)

files = [str(f).replace("\\", "/") for f in (dist.files or [])]
extensions = [f for f in files if f.endswith(".so") or f.endswith(".pyd")]
check(len(extensions) == 1, f"expected one extension module, found {extensions!r}")
# PyPy has no stable ABI: maturin builds it a version-specific wheel instead.
if platform.python_implementation() == "CPython":
    check(
        bool(extensions) and (".abi3." in extensions[0] or extensions[0].endswith(".pyd")),
        f"extension is not an abi3 module: {extensions!r}",
    )
    wheel = dist.read_text("WHEEL") or ""
    check("Tag: cp38-abi3-" in wheel, f"WHEEL tags are not cp38-abi3: {wheel!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
