"""Time a no-op ``maturin-nox develop`` against a no-op ``maturin develop``, side by side.

    python benchmarks/bench_develop.py [--crate pyo3-mixed] [--python 3.12] [-n 10] [--rounds 3]

Both tools work on the same copy of a test crate and install into the same
virtualenv (made with virtualenv, so it has pip, which maturin needs). Each
tool first runs once untimed so its cargo build and install are current, then
N times in a row: "no-op" means nothing changed since the run before. The
tools alternate in rounds so that machine load hits both alike. Prints the
median and best wall time of each (whole command, as a user runs it) and the
ratio maturin-nox / maturin.
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
from maturin_nox.venv import create  # noqa: E402


def command(tool: str) -> List[str]:
    """The develop command line of a tool."""
    if tool == "maturin":
        return [fair.maturin(), "develop", "-q"]
    return [sys.executable, "-m", "maturin_nox", "develop", "-q"]


def run(tool: str, crate: Path, env: Dict[str, str]) -> float:
    """Run one develop and return its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(command(tool), cwd=crate, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{tool} develop failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crate", default="pyo3-mixed", help="test crate under test-crates/")
    parser.add_argument("--python", default="3.12", help="interpreter of the virtualenv")
    parser.add_argument("-n", "--runs", type=int, default=5, help="timed runs per tool per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    fair.compile_checkout()

    with tempfile.TemporaryDirectory(prefix="bench-develop-") as tmp:
        crate = Path(tmp) / args.crate
        shutil.copytree(
            REPO / "test-crates" / args.crate,
            crate,
            ignore=shutil.ignore_patterns("target", "*.so"),
        )
        venv = create(resolve(args.python).executable, Path(tmp) / "venv", backend="virtualenv")
        env = {k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", "PYTHONPATH")}
        env["VIRTUAL_ENV"] = str(venv.path)
        env["PATH"] = f"{venv.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        print(f"crate {args.crate}, venv {venv.path} ({args.python})", flush=True)
        times: Dict[str, List[float]] = {"maturin": [], "maturin-nox": []}
        for round_no in range(args.rounds):
            for tool in times:
                run(tool, crate, env)  # bring the build and the install up to date, untimed
                times[tool] += [run(tool, crate, env) for _ in range(args.runs)]
            print(f"round {round_no + 1}/{args.rounds} done", flush=True)

    print(f"\nno-op develop, {args.rounds} x {args.runs} runs each")
    print(f"{'tool':<12} {'median':>8} {'best':>8}")
    for tool, values in times.items():
        print(f"{tool:<12} {statistics.median(values):>7.3f}s {min(values):>7.3f}s")
    ratio = statistics.median(times["maturin-nox"]) / statistics.median(times["maturin"])
    print(f"ratio maturin-nox / maturin (median): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
