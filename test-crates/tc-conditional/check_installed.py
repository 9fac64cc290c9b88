"""Check an installed tc-conditional wheel: run from a temporary directory, never the source tree."""

import sys
import sysconfig
from importlib import metadata

CRATE = "tc-conditional"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_conditional  # noqa: E402

check("site-packages" in tc_conditional.__file__, f"imported from {tc_conditional.__file__}")
expected = "modern" if sys.version_info >= (3, 10) else "legacy"
check(tc_conditional.flavour() == expected, f"flavour() is {tc_conditional.flavour()!r}, not {expected!r}")
check(tc_conditional.plain(), "the plain feature is off")
stable = sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
suffix = ".abi3.so" if stable else sysconfig.get_config_var("EXT_SUFFIX")
native = [f for f in (metadata.distribution(CRATE).files or []) if str(f).endswith(".so")]
check(any(str(f).endswith(suffix) for f in native), f"no {suffix} module among {native}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
