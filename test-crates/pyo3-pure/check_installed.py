"""Check an installed pyo3-pure wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "pyo3-pure"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


def installed_files(dist):
    """Return the wheel's installed files as forward-slash strings."""
    return [str(f).replace("\\", "/") for f in (dist.files or [])]


import pyo3_pure  # noqa: E402

check(
    "site-packages" in pyo3_pure.__file__,
    f"imported from {pyo3_pure.__file__}, not an installed wheel",
)
check(pyo3_pure.add(2, 3) == 5, "add(2, 3) != 5")
check(pyo3_pure.add(-7, 7) == 0, "add(-7, 7) != 0")
check(pyo3_pure.DummyClass.get_42() == 42, "DummyClass.get_42() != 42")
check(pyo3_pure.GREETING == "hello from pyo3_pure", f"GREETING is {pyo3_pure.GREETING!r}")
try:
    pyo3_pure.add("a", 1)
except TypeError:
    pass
else:
    failures.append("add('a', 1) did not raise TypeError")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Name"] == "pyo3-pure", f"Name is {md['Name']!r}")
check(md["Version"] == "2.1.2", f"Version is {md['Version']!r}")
check(
    md["Summary"] == "Pure Rust layout: a pyo3 extension module at the top level of the wheel",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Programming Language :: Rust" in (md.get_all("Classifier") or []), "Rust classifier missing")
check(
    "Homepage, https://example.invalid/pyo3-pure" in (md.get_all("Project-URL") or []),
    f"Project-URL is {md.get_all('Project-URL')!r}",
)
check(md["License"] == "MIT", f"License is {md['License']!r}")
check(
    (md["Description-Content-Type"] or "").startswith("text/markdown"),
    "README not declared as text/markdown",
)
check("# pyo3-pure" in (md.get_payload() or ""), "README text missing from the description")
check(list(dist.entry_points) == [], f"unexpected entry points {list(dist.entry_points)!r}")

files = installed_files(dist)
check("pyo3_pure/__init__.pyi" in files, "stub pyo3_pure/__init__.pyi not installed")
check("pyo3_pure/py.typed" in files, "marker pyo3_pure/py.typed not installed")
check(
    any(
        f.endswith(".dist-info/licenses/LICENSE") or f.endswith(".dist-info/LICENSE") for f in files
    ),
    "LICENSE file missing from .dist-info",
)

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
