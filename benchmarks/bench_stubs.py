"""Time ``generate-stubs`` and ``build --generate-stubs`` of maturin-nox against maturin's, side by side.

    python benchmarks/bench_stubs.py [--crate pyo3-stubs-pure] [--python 3.12] [-n 5] [--rounds 3]

Both tools work on the same copy of a test crate, each with its own cargo
target dir. Each command first runs once untimed so the cargo build is current;
then N timed runs in a row, so cargo has nothing to do and what is left is
each tool's own work: finding the interpreter, cargo's no-op check, reading
the introspection data from the library and writing the stubs (and, for
``build``, the wheel). The tools alternate in rounds so that machine load hits
both alike. Prints the median and best wall time of each and the ratio
maturin-nox / maturin.
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

import fair

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from maturin_nox.interpreters import resolve  # noqa: E402

COMMANDS = {
    "generate-stubs": ["generate-stubs", "-o", "{out}"],
    "build --generate-stubs": ["build", "--generate-stubs", "-o", "{out}"],
}


def command(tool: str, what: str, python: str, out: Path) -> List[str]:
    """One tool's command line."""
    args = [a.replace("{out}", str(out)) for a in COMMANDS[what]] + ["-i", python, "-q"]
    if tool == "maturin":
        maturin = shutil.which("maturin")
        if maturin is None:
            sys.exit("maturin is not installed (pip install maturin).")
        return [maturin, *args]
    return [sys.executable, "-m", "maturin_nox", *args]


def run(cmd: List[str], crate: Path, env: Dict[str, str]) -> float:
    """Run one command and return its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=crate, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crate", default="pyo3-stubs-pure", help="test crate under test-crates/")
    parser.add_argument("--python", default="3.12", help="interpreter to build for")
    parser.add_argument("-n", "--runs", type=int, default=5, help="timed runs per tool per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    fair.compile_checkout()
    python = str(resolve(args.python).executable)

    with tempfile.TemporaryDirectory(prefix="bench-stubs-") as tmp:
        crate = Path(tmp) / args.crate
        shutil.copytree(REPO / "test-crates" / args.crate, crate)
        base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
        envs = {
            "maturin": {**base, "CARGO_TARGET_DIR": str(Path(tmp) / "target-maturin")},
            # this checkout, not whatever maturin-nox is installed
            "maturin-nox": {
                **base,
                "PYTHONPATH": str(REPO),
                "CARGO_TARGET_DIR": str(Path(tmp) / "t"),
            },
        }
        times: Dict[str, Dict[str, List[float]]] = {w: {t: [] for t in envs} for w in COMMANDS}
        for round_no in range(args.rounds):
            for what in COMMANDS:
                for tool, env in envs.items():
                    cmd = command(tool, what, python, Path(tmp) / f"out-{tool}")
                    run(cmd, crate, env)  # bring the build up to date, untimed
                    times[what][tool] += [run(cmd, crate, env) for _ in range(args.runs)]
            print(f"round {round_no + 1}/{args.rounds} done", flush=True)

    print(f"\n{args.crate}, CPython {args.python}, no-op runs ({args.rounds} x {args.runs} each)")
    print(f"{'command':<24} {'tool':<12} {'median':>8} {'best':>8}")
    for what, per_tool in times.items():
        for tool, values in per_tool.items():
            median, best = statistics.median(values), min(values)
            print(f"{what:<24} {tool:<12} {median:>7.3f}s {best:>7.3f}s")
        ratio = statistics.median(per_tool["maturin-nox"]) / statistics.median(per_tool["maturin"])
        print(f"{what:<24} ratio maturin-nox / maturin (median): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
