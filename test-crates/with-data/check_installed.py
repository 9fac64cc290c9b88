"""Check an installed with-data wheel: run from a temporary directory, never the source tree."""

import os
import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "with-data"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import with_data  # noqa: E402
import with_data_helpers  # noqa: E402

check(
    "site-packages" in with_data.__file__,
    f"imported from {with_data.__file__}, not an installed wheel",
)
check(with_data.count_pairs("a=1\nb\nc=2") == 2, "count_pairs counted wrong")
check(with_data.load_defaults() == {"colour": "blue", "size": 3}, "packaged defaults.json is wrong")
check(with_data_helpers.shout("hi") == "HI!", "with_data_helpers.shout is wrong")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.6.0", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "A pyo3 mixed crate that ships many kinds of files",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Typing :: Typed" in (md.get_all("Classifier") or []), "classifier missing")

files = {str(f).replace("\\", "/"): f for f in (dist.files or [])}


def installed(suffix):
    """Return True if a RECORD entry ends with suffix and the file exists on disk."""
    return any(
        name.endswith(suffix) and os.path.exists(dist.locate_file(f)) for name, f in files.items()
    )


for expected in (
    "with_data/__init__.pyi",
    "with_data/with_data.pyi",
    "with_data/py.typed",
    "with_data/assets/defaults.json",
    "with_data_helpers/__init__.py",
    "shared_data/table.json",
    "shared_data/other.json",
):
    check(expected in files, f"{expected} not installed")
for unwanted in ("local_settings.py", "scratch.tmp", "notes.txt", ".gitignore"):
    check(
        not any(name.endswith(unwanted) for name in files), f"{unwanted} must not be in the wheel"
    )
check(installed("/with_data.h"), "header with_data.h (from .data/headers) not installed")
check(
    installed("share/with-data/sample.cfg"),
    "share/with-data/sample.cfg (from .data/data) not installed",
)

script = shutil.which("with-data-hello", path=os.path.dirname(sys.executable))
if script is None:
    failures.append(
        "script with-data-hello (from .data/scripts) not installed next to the interpreter"
    )
else:
    out = subprocess.run([script], stdout=subprocess.PIPE, text=True).stdout
    check(out == "hello from with-data scripts\n", f"with-data-hello printed {out!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
