"""uniffi builds, maturin-nox against maturin, side by side in one run.

A crate that carries its own ``uniffi-bindgen`` binary (test-crates/uniffi-pure)
is built with ``--release``. maturin runs ``cargo run --bin uniffi-bindgen`` in
the debug profile, so uniffi and uniffi-bindgen are compiled twice (release for
the library, debug for the binary); maturin-nox runs the binary in the
library's own target dir and profile, so it reuses the library build's
dependencies. Cases: (a) a cold build in an empty target dir (the crates.io
downloads are cached for both), (b) a rebuild after an edit of src/lib.rs,
(c) a no-op rebuild. Prints medians and the ratio maturin-nox / maturin
(lower is better).

    python benchmarks/bench_uniffi.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
CRATE = REPO / "test-crates" / "uniffi-pure"


def timed(cmd: List[str], env: Dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of cases (b) and (c)")
    args = parser.parse_args()
    if not shutil.which("maturin"):
        sys.exit("maturin is not installed: pip install maturin (it is in the test extra).")
    work = Path(tempfile.mkdtemp(prefix="bench-uniffi-"))
    crates = {tool: work / f"crate-{tool}" for tool in ("maturin", "ours")}
    for crate in crates.values():
        shutil.copytree(CRATE, crate, ignore=shutil.ignore_patterns("target"))
    base = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    # a cold row measures a machine that built nothing like it: no other project's build seeds it
    base["MATURIN_NOX_SEED"] = "local"
    envs = {tool: {**base, "CARGO_TARGET_DIR": str(work / f"target-{tool}")} for tool in crates}
    cmds = {
        "maturin": ["maturin", "build", "--release", "-q"],
        "ours": [sys.executable, "-m", "maturin_nox", "build", "--release", "-q"],
    }
    for tool, cmd in cmds.items():
        cmd += ["-o", str(work / f"wheels-{tool}")]
    # fetch the crates once, so neither cold build pays for downloads
    subprocess.run(["cargo", "fetch", "--manifest-path", str(CRATE / "Cargo.toml")], check=True)

    def run(tool: str) -> float:
        return timed(cmds[tool], envs[tool], crates[tool])

    def edit(tool: str, n: int) -> None:
        lib = crates[tool] / "src" / "lib.rs"
        lib.write_text(lib.read_text() + f"\n// edit {n}\n")

    print(f"crate: {CRATE.name}; --release; runs: {args.runs}", flush=True)
    results = {}
    print("(a) cold builds...", flush=True)
    results["(a) cold build"] = (run("maturin"), run("ours"))
    timings: Dict[str, Dict[str, List[float]]] = {"b": {}, "c": {}}
    for tool in crates:
        timings["b"][tool] = []
        for n in range(args.runs):
            edit(tool, n)
            timings["b"][tool].append(run(tool))
        timings["c"][tool] = [run(tool) for _ in range(args.runs)]
    for case, label in (("b", "(b) rebuild after an edit"), ("c", "(c) no-op rebuild")):
        results[label] = (
            statistics.median(timings[case]["maturin"]),
            statistics.median(timings[case]["ours"]),
        )
    print()
    print(f"{'case':28} {'maturin':>9} {'maturin-nox':>12} {'ratio':>7}")
    for label, (m, o) in results.items():
        print(f"{label:28} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
