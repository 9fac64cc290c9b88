"""Check an installed tc-sbom-graft wheel: run from a temporary directory, never the source tree."""

import json
import sys
from importlib import metadata

CRATE = "tc-sbom-graft"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_sbom_graft  # noqa: E402

check("site-packages" in tc_sbom_graft.__file__, f"imported from {tc_sbom_graft.__file__}")
number = tc_sbom_graft.sqlite_version_number()
check(number > 3000000, f"sqlite_version_number() is {number}")
text = tc_sbom_graft.sqlite_version()
check(text.startswith("3."), f"sqlite_version() is {text!r}")

dist = metadata.distribution(CRATE)
files = [str(f).replace("\\", "/") for f in (dist.files or [])]
grafted = [f for f in files if f.startswith("tc_sbom_graft.libs/libsqlite3")]
check(len(grafted) == 1, f"the wheel grafts no libsqlite3 into tc_sbom_graft.libs/: {files}")
sboms = [f for f in files if f.endswith(".dist-info/sboms/auditwheel.cdx.json")]
check(len(sboms) == 1, f"no auditwheel SBOM among {files}")
if sboms:
    bom = json.loads(dist.read_text("sboms/auditwheel.cdx.json"))
    check(bom.get("bomFormat") == "CycloneDX", f"bomFormat is {bom.get('bomFormat')!r}")
    names = [c.get("name") for c in bom.get("components", [])]
    check(names[:1] == [CRATE], f"the first component is not the wheel: {names}")
    check(any("sqlite" in (n or "") for n in names[1:]), f"no SQLite package among {names}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
