"""Check an installed sdist-targets wheel: run from a temporary directory, never the source tree."""

import os
import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "sdist-targets"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


script = shutil.which(CRATE, path=os.path.dirname(sys.executable))
if script is None:
    failures.append(f"script {CRATE} is not installed next to the interpreter")
else:
    out = subprocess.run([script], stdout=subprocess.PIPE, text=True, check=False)
    check(out.returncode == 0, f"{CRATE} exited with {out.returncode}")
    check(out.stdout == "sdist-targets 0.3.0\n", f"{CRATE} printed {out.stdout!r}")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.3.0", f"Version is {md['Version']!r}")
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
wheel = dist.read_text("WHEEL") or ""
check("Tag: py3-none-" in wheel, f"WHEEL tag is not py3-none: {wheel!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
