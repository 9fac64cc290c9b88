"""Check an installed tc-abi3t wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "tc-abi3t"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_abi3t  # noqa: E402

check("site-packages" in tc_abi3t.__file__, f"imported from {tc_abi3t.__file__}")
check(tc_abi3t.join("ab", "i3") == "abi3", "join('ab', 'i3') != 'abi3'")
stable = ".abi3t-" if sys.version_info >= (3, 15) else ".abi3.so"
native = [str(f) for f in (metadata.distribution(CRATE).files or []) if ".so" in str(f)]
check(any(stable in f for f in native), f"no {stable} module among {native}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
