"""Check an installed cffi-mixed wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "cffi-mixed"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import cffi_mixed  # noqa: E402
from cffi_mixed import ffi, lib  # noqa: E402
from cffi_mixed.cffi_mixed import lib as inner_lib  # noqa: E402

check(
    "site-packages" in cffi_mixed.__file__,
    f"imported from {cffi_mixed.__file__}, not an installed wheel",
)
check(lib is inner_lib, "cffi_mixed.lib is not the native subpackage's lib")
check(lib.cffi_mixed_mul(6.0, 7.0) == 42.0, "cffi_mixed_mul(6, 7) != 42")
check(cffi_mixed.area(2.5, 4.0) == 10.0, "area(2.5, 4) != 10")
check(cffi_mixed.byte_length("h\u00e9llo") == 6, "byte_length('h\u00e9llo') != 6")
check(lib.cffi_mixed_strlen(ffi.NULL) == 0, "cffi_mixed_strlen(NULL) != 0")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.2.1", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "cffi bindings to a Rust cdylib inside a Python package",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check(
    "Changelog, https://example.invalid/cffi-mixed/changes" in (md.get_all("Project-URL") or []),
    f"Project-URL is {md.get_all('Project-URL')!r}",
)
requires = [r.replace(" ", "") for r in (dist.requires or [])]
check("cffi>=1.15" in requires, f"cffi>=1.15 not required: {requires!r}")
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
for expected in (
    "cffi_mixed/__init__.py",
    "cffi_mixed/shapes.py",
    "cffi_mixed/cffi_mixed/ffi.py",
    "cffi_mixed/cffi_mixed/__init__.py",
):
    check(expected in files, f"{expected} not installed")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
