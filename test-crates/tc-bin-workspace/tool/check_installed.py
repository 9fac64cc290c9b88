"""Check an installed tc-bin-workspace wheel: run from a temporary directory, never the source tree."""

import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "tc-bin-workspace"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


tool = shutil.which("tc-tool")
check(tool is not None, "tc-tool is not on PATH")
if tool:
    out = subprocess.run([tool], capture_output=True, text=True).stdout.strip()
    check(out == "tc-tool says hello", f"tc-tool printed {out!r}")
check(shutil.which("tc-extra") is None, "tc-extra was installed, though tool.maturin.targets leaves it out")
dist = metadata.distribution(CRATE)
wheel = dist.read_text("WHEEL") or ""
check("Tag: py3-none-" in wheel, f"WHEEL is not py3-none:\n{wheel}")
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
check(not any("tc-extra" in f for f in files), f"tc-extra in the wheel: {files}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
