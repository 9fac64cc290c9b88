"""Check an installed uniffi-mixed wheel: run from a temporary directory, never the source tree."""

import math
import os
import subprocess
import sys
from importlib import metadata

CRATE = "uniffi-mixed"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import uniffi_mixed  # noqa: E402
from uniffi_mixed import shapes  # noqa: E402
from uniffi_mixed.shapes import Shape  # noqa: E402

check(
    "site-packages" in uniffi_mixed.__file__,
    f"imported from {uniffi_mixed.__file__}, not an installed wheel",
)
check(math.isclose(shapes.area(Shape.CIRCLE(radius=1.0)), math.pi), "area(circle r=1) != pi")
check(
    uniffi_mixed.total_area([Shape.RECTANGLE(width=2.0, height=3.0), Shape.CIRCLE(radius=0.0)])
    == 6.0,
    "total_area is wrong",
)
check(
    shapes.names([Shape.CIRCLE(radius=1.0), Shape.RECTANGLE(width=1.0, height=1.0)])
    == ["circle", "rectangle"],
    "names() is wrong",
)

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.1.0", f"Version is {md['Version']!r}")
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
for expected in (
    "uniffi_mixed/__init__.py",
    "uniffi_mixed/py.typed",
    "uniffi_mixed/shapes/__init__.py",
    "uniffi_mixed/shapes/shapes.py",
):
    check(expected in files, f"{expected} not installed")
if sys.platform.startswith("linux"):
    # named by uniffi.toml's bindings.python.cdylib_name, not by the crate's [lib] name
    check("uniffi_mixed/shapes/libshapes_native.so" in files, "libshapes_native.so not installed")
scripts = os.path.dirname(sys.executable)
out = subprocess.run(
    [os.path.join(scripts, "total-area"), "2", "3"], capture_output=True, text=True
).stdout
check(out.strip() == "5.0", f"total-area 2 3 printed {out!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
