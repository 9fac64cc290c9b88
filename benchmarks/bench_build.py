"""No-op rebuilds, maturin-nox against maturin, side by side in one run.

(a) a no-op rebuild for one interpreter, (b) a no-op rebuild for four.
maturin keeps one cargo target dir, so switching PYO3_PYTHON between
interpreters makes cargo rebuild pyo3 and the crate for each of them every
time; maturin-nox keeps a target dir per interpreter. Both tools get their
own warmed-up target dir and the same interpreters. Prints medians and the
ratio maturin-nox / maturin (lower is better; targets: (a) <= 1, (b) <= 0.2).

    python benchmarks/bench_build.py [--crate test-crates/pyo3-pure] [--runs 3]
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
from typing import List, Sequence

import fair

REPO = Path(__file__).resolve().parents[1]
VERSIONS = ("3.10", "3.11", "3.12", "3.13")


def pythons(versions: Sequence[str]) -> List[str]:
    sys.path.insert(0, str(REPO))
    from maturin_nox.interpreters import resolve

    return [str(resolve(v).executable) for v in versions]


def timed(cmd: List[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--crate", default=str(REPO / "test-crates" / "pyo3-pure"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    maturin = fair.maturin()
    fair.compile_checkout()
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    crate = work / "crate"
    shutil.copytree(args.crate, crate, ignore=shutil.ignore_patterns("target"))
    pys = pythons(VERSIONS)
    env = dict(os.environ)
    env.pop("CARGO_TARGET_DIR", None)
    maturin_env = {**env, "CARGO_TARGET_DIR": str(work / "maturin-target")}
    ours_env = {**env, "CARGO_TARGET_DIR": str(work / "ours-target")}
    out_m, out_o = str(work / "wheels-maturin"), str(work / "wheels-ours")
    ours = [sys.executable, "-m", "maturin_nox", "build", "-q", "-o", out_o]
    theirs = [maturin, "build", "-q", "-o", out_m]

    def i_args(selected: Sequence[str]) -> List[str]:
        return [a for p in selected for a in ("-i", p)]

    print(
        f"crate: {args.crate}; interpreters: {', '.join(VERSIONS)}; runs: {args.runs}", flush=True
    )
    print("warming up both target dirs (full builds)...", flush=True)
    timed(theirs + i_args(pys), maturin_env, crate)
    timed(ours + i_args(pys), ours_env, crate)

    results = {}
    for label, selected in (
        ("(a) no-op, 1 interpreter", pys[-1:]),
        ("(b) no-op, 4 interpreters", pys),
    ):
        # maturin's last build was for the last interpreter in the list, like ours
        m = [timed(theirs + i_args(selected), maturin_env, crate) for _ in range(args.runs)]
        o = [timed(ours + i_args(selected), ours_env, crate) for _ in range(args.runs)]
        results[label] = (statistics.median(m), statistics.median(o))
    print()
    print(f"{'case':28} {'maturin':>9} {'maturin-nox':>12} {'ratio':>7}")
    for label, (m, o) in results.items():
        print(f"{label:28} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
