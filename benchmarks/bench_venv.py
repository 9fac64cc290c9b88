"""Time ephemeral environment creation with uv, virtualenv and the stdlib venv.

    python benchmarks/bench_venv.py [--python 3.12] [-n 10] [--venv-runs 3]

Each backend first makes one untimed environment (interpreter probe, virtualenv's
app-data seed cache, uv's interpreter cache), then N timed ones through
`VenvManager.ephemeral` (creation only; deletion is not counted). A cached
`VenvManager.get` is timed too. Prints mean and best times and the ratio to uv.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maturin_nox.venv import VenvManager, find_uv


def time_ephemeral(manager: VenvManager, python: str, backend: str, runs: int) -> List[float]:
    """Seconds to create each of `runs` ephemeral environments, after one warm-up."""
    times: List[float] = []
    for index in range(runs + 1):
        start = time.perf_counter()
        with manager.ephemeral(python, backend=backend) as env:
            elapsed = time.perf_counter() - start
            assert env.python.exists()
        if index:
            times.append(elapsed)
    return times


def time_cached_get(manager: VenvManager, python: str, runs: int) -> List[float]:
    """Seconds for `get` to hand back an already cached environment."""
    manager.get(python)
    times: List[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        manager.get(python)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12", help="interpreter (version or path)")
    parser.add_argument("-n", "--runs", type=int, default=10, help="timed runs per backend")
    parser.add_argument(
        "--venv-runs", type=int, default=3, help="timed runs for stdlib venv (ensurepip is slow)"
    )
    args = parser.parse_args()

    results: Dict[str, List[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as root:
        manager = VenvManager(Path(root))
        backends = (["uv"] if find_uv() else []) + ["virtualenv", "venv"]
        for backend in backends:
            runs = args.venv_runs if backend == "venv" else args.runs
            results[f"ephemeral {backend}"] = time_ephemeral(manager, args.python, backend, runs)
        results["cached get"] = time_cached_get(manager, args.python, args.runs)

    reference = statistics.mean(results.get("ephemeral uv", results["ephemeral virtualenv"]))
    print(f"Python {args.python}, {sys.platform}; mean / best of the timed runs")
    print(f"{'':20} {'runs':>5} {'mean s':>9} {'best s':>9} {'x uv':>8}")
    for name, times in results.items():
        mean = statistics.mean(times)
        print(f"{name:20} {len(times):5} {mean:9.4f} {min(times):9.4f} {mean / reference:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
