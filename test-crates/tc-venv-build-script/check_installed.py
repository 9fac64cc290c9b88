"""Check an installed tc-venv-build-script wheel: run from a temporary directory, never the source tree."""

import sys

CRATE = "tc-venv-build-script"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_venv_build_script  # noqa: E402

check("site-packages" in tc_venv_build_script.__file__, f"imported from {tc_venv_build_script.__file__}")
value = tc_venv_build_script.marker()
check(value == "read from the build venv", f"marker() is {value!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
