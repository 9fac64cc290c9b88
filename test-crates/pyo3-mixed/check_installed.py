"""Check an installed pyo3-mixed wheel: run from a temporary directory, never the source tree."""

import os
import shutil
import subprocess
import sys
from importlib import metadata

CRATE = "pyo3-mixed"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


def installed_files(dist):
    """Return the wheel's installed files as forward-slash strings."""
    return [str(f).replace("\\", "/") for f in (dist.files or [])]


import pyo3_mixed  # noqa: E402
from pyo3_mixed import _native  # noqa: E402
from pyo3_mixed.pure.greet import greeting  # noqa: E402

check(
    "site-packages" in pyo3_mixed.__file__,
    f"imported from {pyo3_mixed.__file__}, not an installed wheel",
)
check(
    os.path.dirname(_native.__file__) == os.path.dirname(pyo3_mixed.__file__),
    f"_native at {_native.__file__} is not inside the pyo3_mixed package",
)
check(pyo3_mixed.get_21() == 21, "get_21() != 21")
check(pyo3_mixed.get_42() == 42, "get_42() != 42")
check(pyo3_mixed.sum_as_string(40, 2) == "42", "sum_as_string(40, 2) != '42'")
check(greeting("x") == "Hello, x!", "pure subpackage greeting is wrong")

dist = metadata.distribution(CRATE)
md = dist.metadata
check(md["Version"] == "0.4.0", f"Version is {md['Version']!r} (pyproject.toml says 0.4.0)")
check(
    md["Summary"] == "Mixed Rust/Python layout with a dotted module name and an entry point",
    f"Summary is {md['Summary']!r}",
)
check(md["Requires-Python"] == ">=3.8", f"Requires-Python is {md['Requires-Python']!r}")
check("Typing :: Typed" in (md.get_all("Classifier") or []), "Typing :: Typed classifier missing")
urls = md.get_all("Project-URL") or []
check("Repository, https://example.invalid/pyo3-mixed.git" in urls, f"Project-URL is {urls!r}")
check(
    md["Author-email"] == "Ferris Crab <ferris@example.invalid>",
    f"Author-email is {md['Author-email']!r}",
)
check("test" in (md.get_all("Provides-Extra") or []), "extra 'test' missing")
requires = [r.replace(" ", "") for r in (dist.requires or [])]
check(
    any(r.startswith("pytest") and "extra==" in r for r in requires),
    f"pytest extra missing in {requires!r}",
)
check(
    any(r.startswith("importlib-metadata>=1") for r in requires),
    f"marker dependency missing in {requires!r}",
)

eps = {(ep.group, ep.name): ep.value for ep in dist.entry_points}
check(
    eps.get(("console_scripts", "pyo3-mixed-greet")) == "pyo3_mixed:main",
    f"entry points are {eps!r}",
)
check(
    eps.get(("pyo3_mixed.plugins", "default")) == "pyo3_mixed:plugin", f"entry points are {eps!r}"
)
plugin = [ep for ep in dist.entry_points if ep.group == "pyo3_mixed.plugins"]
check(
    bool(plugin) and plugin[0].load()() == "pyo3-mixed plugin", "plugin entry point does not load"
)

script = shutil.which("pyo3-mixed-greet", path=os.path.dirname(sys.executable))
if script is None:
    failures.append("console script pyo3-mixed-greet not installed next to the interpreter")
else:
    out = subprocess.run([script], stdout=subprocess.PIPE, text=True).stdout
    check(out.strip() == "Hello, pyo3-mixed! 42", f"pyo3-mixed-greet printed {out!r}")

files = installed_files(dist)
for expected in ("pyo3_mixed/py.typed", "pyo3_mixed/_native.pyi", "pyo3_mixed/pure/greet.py"):
    check(expected in files, f"{expected} not installed")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
