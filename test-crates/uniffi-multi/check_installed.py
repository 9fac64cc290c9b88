"""Check an installed uniffi-multi wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "uniffi-multi"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import uniffi_multi  # noqa: E402
from uniffi_multi import Length  # noqa: E402

check(
    "site-packages" in uniffi_multi.__file__,
    f"imported from {uniffi_multi.__file__}, not an installed wheel",
)
total = uniffi_multi.total([uniffi_multi.centimetres(150.0), Length(metres=0.5)])
check(abs(total.metres - 2.0) < 1e-9, f"total is {total!r}")
check(uniffi_multi.describe(total) == "2.00 m", f"describe gives {uniffi_multi.describe(total)!r}")
dist = metadata.distribution(CRATE)
files = {str(f).replace("\\", "/") for f in dist.files or []}
for module in ("uniffi_multi/uniffi_multi.py", "uniffi_multi/units.py", "uniffi_multi/__init__.py"):
    check(module in files, f"{module} is not installed")
check(dist.metadata["Version"] == "0.1.0", f"Version is {dist.metadata['Version']!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
