"""Check an installed cffi-pure wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "cffi-pure"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import cffi_pure  # noqa: E402
from cffi_pure import ffi, lib  # noqa: E402

check(
    "site-packages" in cffi_pure.__file__,
    f"imported from {cffi_pure.__file__}, not an installed wheel",
)
check(lib.cffi_pure_add(40, 2) == 42, "cffi_pure_add(40, 2) != 42")
check(lib.cffi_pure_add(2**31 - 1, 1) == -(2**31), "cffi_pure_add does not wrap like i32")
origin = lib.cffi_pure_origin()
check((origin.x, origin.y) == (0.0, 0.0), f"origin is ({origin.x}, {origin.y})")
point = ffi.new("Point *", {"x": 3.0, "y": 4.0})
check(lib.cffi_pure_norm(point[0]) == 5.0, "cffi_pure_norm((3, 4)) != 5")
check(ffi.sizeof("Point") == 16, f"sizeof(Point) is {ffi.sizeof('Point')}")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.1.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "cffi bindings to a Rust cdylib, pure Rust layout",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Programming Language :: C" in (md.get_all("Classifier") or []), "classifier missing")
check(
    any(r.split(";")[0].strip() == "cffi" for r in (dist.requires or [])),
    f"cffi not required: {dist.requires!r}",
)
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
check("cffi_pure/ffi.py" in files, "cffi_pure/ffi.py not installed")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
