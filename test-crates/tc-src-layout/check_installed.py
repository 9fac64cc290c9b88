"""Check an installed tc-src-layout wheel: run from a temporary directory, never the source tree."""

import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "tc-src-layout"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_src_layout  # noqa: E402
from tc_src_layout import _native  # noqa: E402

check("site-packages" in tc_src_layout.__file__, f"imported from {tc_src_layout.__file__}")
check(tc_src_layout.times(6, 7) == 42, "times(6, 7) != 42")
check(tc_src_layout.spell(42) == "four-two", f"spell(42) is {tc_src_layout.spell(42)!r}")
check(_native.__name__ == "tc_src_layout._native", f"extension is {_native.__name__}")

dist = metadata.distribution(CRATE)
check(dist.metadata["Version"] == "0.3.1", f"Version is {dist.metadata['Version']!r}")
files = sorted(str(f).replace("\\", "/") for f in (dist.files or []))
for expected in ("tc_src_layout/__init__.py", "tc_src_layout/words.py"):
    check(expected in files, f"{expected} missing from {files}")
check(not any(f.startswith(("src/", "rust/")) for f in files), f"source folders packed: {files}")
script = shutil.which("tc-src-layout")
check(script is not None, "console script tc-src-layout not on PATH")
if script:
    out = subprocess.run([script], capture_output=True, text=True).stdout.strip()
    check(out == "four-two", f"tc-src-layout printed {out!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
