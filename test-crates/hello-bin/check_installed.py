"""Check an installed hello-bin wheel: run from a temporary directory, never the source tree."""

import os
import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "hello-bin"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


script = shutil.which("hello-bin", path=os.path.dirname(sys.executable))
if script is None:
    failures.append("script hello-bin is not installed next to the interpreter")
else:
    out = subprocess.run([script], stdout=subprocess.PIPE, text=True, check=False)
    check(out.returncode == 0, f"hello-bin exited with {out.returncode}")
    check(out.stdout == "Hello from hello-bin 0.5.0!\n", f"hello-bin printed {out.stdout!r}")
    out = subprocess.run([script, "a", "b"], stdout=subprocess.PIPE, text=True, check=False)
    check(out.stdout.splitlines()[-1:] == ["args: a b"], f"hello-bin a b printed {out.stdout!r}")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.5.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "A plain Rust binary shipped as a wheel script",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Environment :: Console" in (md.get_all("Classifier") or []), "classifier missing")
check(
    "Bug Tracker, https://example.invalid/hello-bin/issues" in (md.get_all("Project-URL") or []),
    f"Project-URL is {md.get_all('Project-URL')!r}",
)
check(list(dist.entry_points) == [], "a binary wheel needs no entry points")
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
check(
    any(f.endswith("/bin/hello-bin") or f.endswith("/Scripts/hello-bin.exe") for f in files),
    f"hello-bin missing from RECORD: {files!r}",
)
wheel = dist.read_text("WHEEL") or ""
check("Tag: py3-none-" in wheel, f"WHEEL tag is not py3-none: {wheel!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
