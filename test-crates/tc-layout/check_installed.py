"""Check an installed tc-layout wheel: run from a temporary directory, never the source tree."""

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata

CRATE = "tc-layout"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_extra  # noqa: E402
import tc_layout  # noqa: E402

check("site-packages" in tc_layout.__file__, f"imported from {tc_layout.__file__}, not a wheel")
check(tc_layout.double(21) == 42, "tc_layout.double(21) is not 42")
check(tc_extra.VALUE == "extra", "tc_extra (python-packages) is wrong")
here = os.path.dirname(tc_layout.__file__)
check(os.path.isfile(os.path.join(here, "py.typed")), "py.typed missing")
check(os.path.isfile(os.path.join(here, "helpers.pyi")), "helpers.pyi missing")
check(not os.path.exists(os.path.join(here, "excluded_module.py")), "excluded_module.py installed")
check(not os.path.exists(os.path.join(here, "scratch.tmp")), "scratch.tmp installed")

purelib = sysconfig.get_paths()["purelib"]
check(os.path.isfile(os.path.join(purelib, "assets", "notes.txt")), "include assets/notes.txt missing")
check(os.path.isfile(os.path.join(purelib, "stray.txt")), "include python/stray.txt missing")
check(not os.path.exists(os.path.join(purelib, "sdist-only.txt")), "sdist-only include in the wheel")

readme = os.path.join(sys.prefix, "share", "tc-layout", "readme.txt")
check(os.path.isfile(readme), f"data file missing at {readme}")
bindir = os.path.dirname(sys.executable)
for script, expected in (("tc-layout", "tc-layout 0.3.0"), ("tc-layout-sh", "tc-layout-sh")):
    found = shutil.which(script, path=bindir)
    if found is None:
        failures.append(f"script {script} is not installed")
        continue
    out = subprocess.run([found], stdout=subprocess.PIPE, universal_newlines=True, check=False)
    check(out.stdout.strip() == expected, f"{script} printed {out.stdout!r}")

dist = metadata.distribution(CRATE)
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
check(any(f.endswith("include/site/python%d.%d/tc-layout/tc_layout.h" % sys.version_info[:2])
          or f.endswith("/tc_layout.h") for f in files), f"header missing from RECORD: {files!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
