"""Check an installed sdist-path-dep wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "sdist-path-dep"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import sdist_path_dep  # noqa: E402

check("site-packages" in sdist_path_dep.__file__, f"imported from {sdist_path_dep.__file__}, not an installed wheel")
check(sdist_path_dep.triple(14) == 42, "triple(14) != 42")
check(sdist_path_dep.triple(-3) == -9, "triple(-3) != -9")

md = metadata.distribution(CRATE).metadata
check(md["Name"] == "sdist-path-dep", f"Name is {md['Name']!r}")
check(md["Version"] == "0.5.0", f"Version is {md['Version']!r}")
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("# sdist-path-dep" in (md.get_payload() or ""), "README text missing from the description")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
