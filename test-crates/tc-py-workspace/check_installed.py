"""Check an installed tc-py-workspace wheel: run from a temporary directory, never the source tree."""

import sys
import sysconfig
from importlib import metadata

CRATE = "tc-py-workspace"
failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports them all."""
    if not condition:
        failures.append(message)


import tc_py_workspace  # noqa: E402
import tc_py_workspace_tools  # noqa: E402
from tc_py_workspace import _ext  # noqa: E402

check("site-packages" in tc_py_workspace.__file__, f"imported from {tc_py_workspace.__file__}")
check(tc_py_workspace.inc(41) == 42, "inc(41) != 42")
check(tc_py_workspace.twice(21) == 42, "twice(21) != 42")
check(tc_py_workspace_tools.NAME == "tools", "tc_py_workspace_tools not installed")
suffix = sysconfig.get_config_var("EXT_SUFFIX")
check(_ext.__file__.endswith(suffix), f"{_ext.__file__} is not a {suffix} (version-specific) module")

dist = metadata.distribution(CRATE)
check(dist.metadata["Version"] == "1.2.0", f"Version is {dist.metadata['Version']!r}")
wheel = dist.read_text("WHEEL") or ""
tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
check(f"Tag: {tag}-{tag}-" in wheel, f"WHEEL is not tagged {tag}-{tag}:\n{wheel}")

if failures:
    for failure in failures:
        print(f"FAIL {CRATE}: {failure}", file=sys.stderr)
    sys.exit(1)
print(f"OK {CRATE}")
