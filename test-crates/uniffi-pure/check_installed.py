"""Check an installed uniffi-pure wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "uniffi-pure"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import uniffi_pure  # noqa: E402
from uniffi_pure import Counter, MathError, Point  # noqa: E402

check(
    "site-packages" in uniffi_pure.__file__,
    f"imported from {uniffi_pure.__file__}, not an installed wheel",
)
check(uniffi_pure.add(2, 40) == 42, "add(2, 40) != 42")
check(uniffi_pure.greet("uniffi") == "Hello, uniffi!", "greet('uniffi') is wrong")
mid = uniffi_pure.midpoint(Point(x=0.0, y=0.0), Point(x=2.0, y=4.0))
check((mid.x, mid.y) == (1.0, 2.0), f"midpoint is {mid!r}")
counter = Counter(41)
check(counter.increment() == 42, "Counter(41).increment() != 42")
check(uniffi_pure.divide(84, 2) == 42, "divide(84, 2) != 42")
try:
    uniffi_pure.divide(1, 0)
    check(False, "divide(1, 0) raised nothing")
except MathError.DivisionByZero:
    pass

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.2.0", f"Version is {md['Version']!r}")
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
for expected in (
    "uniffi_pure/__init__.py",
    "uniffi_pure/uniffi_pure.py",
    "uniffi_pure/__init__.pyi",
    "uniffi_pure/py.typed",
):
    check(expected in files, f"{expected} not installed")
check(
    any(f.startswith("uniffi_pure/libuniffi_pure.") for f in files), "the library is not installed"
)
check(
    not any(f.endswith("uniffi-bindgen") for f in files),
    "the uniffi-bindgen helper binary was installed",
)

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
