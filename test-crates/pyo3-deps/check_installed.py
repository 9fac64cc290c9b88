"""Check an installed pyo3-deps wheel: run from a temporary directory, never the source tree."""

import sys
from importlib import metadata

CRATE = "pyo3-deps"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import pyo3_deps  # noqa: E402

check(
    "site-packages" in pyo3_deps.__file__,
    f"imported from {pyo3_deps.__file__}, not an installed wheel",
)
records = '[{"level": "warn", "message": "disk 3 at 91%"}, {"level": "info", "message": "ok 7"}]'
got = pyo3_deps.messages_at(records, "warn")
check(got == ["disk # at #%"], f"messages_at(..., 'warn') is {got!r}")
check(pyo3_deps.messages_at("[]", "warn") == [], "messages_at('[]') is not empty")
out = pyo3_deps.record_json("info", 'say "hi"')
check(out == '{"level":"info","message":"say \\"hi\\""}', f"record_json is {out!r}")
try:
    pyo3_deps.messages_at("[{", "warn")
except ValueError as exc:
    check("EOF" in str(exc), f"the ValueError says {exc}")
else:
    failures.append("messages_at('[{') did not raise ValueError")

md = metadata.distribution(CRATE).metadata
check(md["Version"] == "0.3.0", f"Version is {md['Version']!r}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
