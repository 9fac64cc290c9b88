"""Check an installed pyo3-stubs-pure wheel built with --generate-stubs.

Run from a temporary directory, never the source tree.
"""

import sys
from importlib import metadata
from pathlib import Path

CRATE = "pyo3-stubs-pure"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_stubs_pure  # noqa: E402
from pyo3_stubs_pure import Colour, Rect, units  # noqa: E402

check(
    "site-packages" in pyo3_stubs_pure.__file__,
    f"imported from {pyo3_stubs_pure.__file__}, not an installed wheel",
)
check(pyo3_stubs_pure.add(2) == 3, "add(2) != 3")
check(pyo3_stubs_pure.add(2, b=5) == 7, "add(2, b=5) != 7")
check(
    pyo3_stubs_pure.describe("x", 1, 2, 3, sep="+", b=1, a=2) == "x:3:a+b",
    f"describe(...) is {pyo3_stubs_pure.describe('x', 1, 2, 3, sep='+', b=1, a=2)!r}",
)
check(pyo3_stubs_pure.perimeter([1.5, 2.5]) == 4.0, "perimeter([1.5, 2.5]) != 4.0")
check(pyo3_stubs_pure.perimeter([]) is None, "perimeter([]) is not None")
check(pyo3_stubs_pure.TRIANGLE_SIDES == 3 and pyo3_stubs_pure.UNIT == "cm", "constants differ")
rect = Rect(2, 3)
check(rect.area() == 6 and repr(rect) == "Rect(2, 3)", f"Rect(2, 3) is {rect!r}")
rect.width = 4
check(rect.width == 4 and rect.scaled(0.5) == (2.0, 1.5), "Rect.width setter or scaled broken")
check(Rect.square(5).area() == 25 and Rect.unit().area() == 1 and Rect.CORNERS == 4, "Rect API")
check(Colour.Red == Colour.Red and Colour.Red != Colour.Blue, "Colour equality")
check(abs(units.to_inches(2.54) - 1.0) < 1e-12, "units.to_inches(2.54) != 1")

dist = metadata.distribution(CRATE)
check(dist.metadata["Version"] == "0.3.0", f"Version is {dist.metadata['Version']!r}")
files = sorted(str(f).replace("\\", "/") for f in (dist.files or []))
for stub in ("__init__.pyi", "units.pyi", "py.typed"):
    check(f"pyo3_stubs_pure/{stub}" in files, f"pyo3_stubs_pure/{stub} is not installed")

package = Path(pyo3_stubs_pure.__file__).parent
init_stub = (package / "__init__.pyi").read_text(encoding="utf-8")
check("class Rect:" in init_stub, "__init__.pyi has no class Rect: the hand-written stub won")
check("    def area(self, /) -> int:" in init_stub, "__init__.pyi lacks Rect.area")
check("from . import units as units" in init_stub, "__init__.pyi does not re-export units")
units_stub = (package / "units.pyi").read_text(encoding="utf-8")
check("def to_inches(cm: SupportsFloat | SupportsIndex) -> float:" in units_stub, "units.pyi")
check((package / "py.typed").read_bytes() == b"", "py.typed is not empty")
# the stubs must be valid Python
for name, text in (("__init__.pyi", init_stub), ("units.pyi", units_stub)):
    try:
        compile(text, name, "exec")
    except SyntaxError as exc:
        failures.append(f"{name} does not parse: {exc}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
