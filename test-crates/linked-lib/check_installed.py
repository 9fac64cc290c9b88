"""Check an installed linked-lib wheel: run from a temporary directory, never the source tree."""

import os
import sys
from importlib import metadata

CRATE = "linked-lib"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


def loaded_libraries(fragment):
    """Return the paths of mapped shared objects whose name contains fragment (Linux only)."""
    try:
        with open("/proc/self/maps") as maps:
            return sorted({line.split()[-1] for line in maps if fragment in line and "/" in line})
    except OSError:
        return []


try:
    import linked_lib
except ImportError as exc:
    print(
        f"FAIL {CRATE}: cannot import linked_lib ({exc}); was the wheel repaired?", file=sys.stderr
    )
    sys.exit(1)

check(
    "site-packages" in linked_lib.__file__,
    f"imported from {linked_lib.__file__}, not an installed wheel",
)
check(linked_lib.sum_of_squares(3, 4) == 25, "sum_of_squares(3, 4) != 25")
check(linked_lib.sum_of_squares(-2, 0) == 4, "sum_of_squares(-2, 0) != 4")
check(
    linked_lib.c_library_version() == "tinymath 1.2",
    f"C library says {linked_lib.c_library_version()!r}",
)

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.9.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "A pyo3 module linked to a non-system C shared library",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check(
    "Operating System :: POSIX :: Linux" in (md.get_all("Classifier") or []), "classifier missing"
)

files = [str(f).replace("\\", "/") for f in (dist.files or [])]
grafted = [f for f in files if f.startswith("linked_lib.libs/") and "libtinymath" in f]
loaded = loaded_libraries("libtinymath")
if grafted:
    # A repaired wheel must load its own copy, not one found elsewhere on the system.
    check(
        len(loaded) == 1
        and os.path.join("linked_lib.libs", os.path.basename(grafted[0])) in loaded[0],
        f"grafted {grafted[0]} but loaded {loaded!r}",
    )
else:
    print(f"note {CRATE}: wheel not repaired; libtinymath loaded from {loaded!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
