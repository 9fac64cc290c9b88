"""Check an installed pyo3-stubs-mixed wheel built with --generate-stubs.

Run from a temporary directory, never the source tree.
"""

import sys
from importlib import metadata
from pathlib import Path

CRATE = "pyo3-stubs-mixed"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_stubs_mixed  # noqa: E402
from pyo3_stubs_mixed import Shelf, _native  # noqa: E402

check(
    "site-packages" in pyo3_stubs_mixed.__file__,
    f"imported from {pyo3_stubs_mixed.__file__}, not an installed wheel",
)
shelf = Shelf("pantry", items=["rice", "rice", "tea"])
check(shelf.label == "pantry" and shelf.count("rice") == 2, "Shelf counts")
check(shelf.add("tea", 3) == 4 and len(shelf) == 6, "Shelf.add or len")
other = Shelf("attic")
pyo3_stubs_mixed.restock([shelf, other], ["jam"])
check(other.items() == {"jam": 1}, f"attic holds {other.items()!r}")
check(pyo3_stubs_mixed.total_count([shelf, other]) == 8, "total_count")
check(pyo3_stubs_mixed.summary(shelf) == "jam=1, rice=2, tea=4", pyo3_stubs_mixed.summary(shelf))
check(_native.BUILT_WITH == "pyo3", "the #[pymodule_init] attribute is missing")

dist = metadata.distribution(CRATE)
check(dist.metadata["Version"] == "1.4.0", f"Version is {dist.metadata['Version']!r}")
files = sorted(str(f).replace("\\", "/") for f in (dist.files or []))
check("pyo3_stubs_mixed/_native.pyi" in files, "pyo3_stubs_mixed/_native.pyi is not installed")
check("pyo3_stubs_mixed/py.typed" not in files, "a mixed wheel got a generated py.typed")

stub = (Path(pyo3_stubs_mixed.__file__).parent / "_native.pyi").read_text(encoding="utf-8")
check("class Shelf:" in stub, "_native.pyi has no class Shelf")
check("def restock(" in stub and "def total_count(" in stub, "_native.pyi lacks the functions")
# #[pymodule_init] may add anything: the stub says it is incomplete and has no __all__
check("def __getattr__(name: str) -> Incomplete: ..." in stub, "no __getattr__ marker")
check("__all__" not in stub, "an incomplete module's stub declares __all__")
try:
    compile(stub, "_native.pyi", "exec")
except SyntaxError as exc:
    failures.append(f"_native.pyi does not parse: {exc}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
