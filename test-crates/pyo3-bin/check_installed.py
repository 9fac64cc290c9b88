"""Check an installed pyo3-bin wheel: run from a temporary directory, never the source tree."""

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "pyo3-bin"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_bin  # noqa: E402

check(
    "site-packages" in pyo3_bin.__file__,
    f"imported from {pyo3_bin.__file__}, not an installed wheel",
)
check(pyo3_bin.greet("x") == "Hello from Python, x!", "greet('x') is wrong")

script = shutil.which("pyo3-bin", path=os.path.dirname(sys.executable))
if script is None:
    failures.append("script pyo3-bin is not installed next to the interpreter")
else:
    # The embedded interpreter finds the environment (and pyo3_bin) from the binary's location.
    out = subprocess.run([script], capture_output=True, text=True)
    expected = f"Hello from Python, pyo3-bin! (embedded Python {platform.python_version()})"
    check(out.returncode == 0, f"pyo3-bin exited with {out.returncode}: {out.stderr.strip()}")
    check(out.stdout.strip() == expected, f"pyo3-bin printed {out.stdout!r}, expected {expected!r}")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.7.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "A Rust binary embedding Python, shipped next to a Python package",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Environment :: Console" in (md.get_all("Classifier") or []), "classifier missing")
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
check(any(f.endswith("/bin/pyo3-bin") for f in files), f"pyo3-bin missing from RECORD: {files!r}")
check("pyo3_bin/__init__.py" in files, "pyo3_bin/__init__.py not installed")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
