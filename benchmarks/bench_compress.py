"""Time writing a dev build's wheel: maturin-nox's fast default (stored) against level 6,
side by side with maturin's --compression-method/--compression-level.

    python benchmarks/bench_compress.py [--crate pyo3-pure] [--python 3.12] [-n 5] [--library PATH]

Part 1 writes the wheel's members in-process with maturin-nox's writer: stored,
deflated at levels 1 and 6, serial and with large members in the thread pool
(``--library`` swaps the crate's library for another file, e.g. a 20 MB debug
``.so``). Part 2 runs the commands as a user does, on the same crate copy and
cargo target: cargo's build is a no-op, and the wheels are deleted before each
run so that every run writes its wheel (maturin always does). Medians of N
runs, tools alternating; ratios against ``maturin build`` (deflated, level 6).
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
from typing import Dict, List, Tuple

import fair

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from maturin_nox import wheel as wheel_module  # noqa: E402
from maturin_nox.compression import Compression  # noqa: E402
from maturin_nox.interpreters import resolve  # noqa: E402
from maturin_nox.wheel import WheelWriter, read_wheel  # noqa: E402


def _write(members: Dict[str, bytes], out: Path, compression: Compression, pool: bool) -> float:
    saved = wheel_module._POOL_MIN
    wheel_module._POOL_MIN = saved if pool else 1 << 62
    try:
        writer = WheelWriter(out, "bench", "1.0", ["py3-none-any"], compression=compression)
        for name, data in members.items():
            writer.add_bytes(name, data)
        start = time.perf_counter()
        path = writer.finish()
        elapsed = time.perf_counter() - start
        path.unlink()
        return elapsed
    finally:
        wheel_module._POOL_MIN = saved


def in_process(members: Dict[str, bytes], runs: int, tmp: Path) -> None:
    size = sum(len(d) for d in members.values()) / 1e6
    print(f"\nPart 1: the writer alone, {len(members)} members, {size:.1f} MB, median of {runs}")
    cases: List[Tuple[str, Compression, bool]] = [
        ("stored (dev default)", Compression("stored", 0), False),
        ("deflated 1", Compression("deflated", 1), False),
        ("deflated 6, serial", Compression("deflated", 6), False),
        ("deflated 6, pool (release default)", Compression("deflated", 6), True),
    ]
    base = None
    for label, compression, pool in cases:
        times = [_write(members, tmp, compression, pool) for _ in range(runs)]
        median = statistics.median(times)
        base = base or median
        print(f"  {label:36} {median:7.3f} s")


def cli_runs(crate: Path, target: Path, python: str, runs: int) -> None:
    maturin = fair.maturin()
    common = ["-i", python, "--target-dir"]
    nox = [sys.executable, "-m", "maturin_nox", "build", "-q"]
    commands = {
        "maturin build (deflated 6)": [maturin, "build", "-q", *common, str(target / "maturin")],
        "maturin build --compression-method stored": [
            maturin,
            "build",
            "-q",
            *common,
            str(target / "maturin"),
            "--compression-method",
            "stored",
        ],
        "maturin build --compression-level 1": [
            maturin,
            "build",
            "-q",
            *common,
            str(target / "maturin"),
            "--compression-level",
            "1",
        ],
        "maturin-nox build (stored, the default)": [*nox, *common, str(target / "nox")],
        "maturin-nox build --compression-level 6": [
            *nox,
            *common,
            str(target / "nox"),
            "--compression-level",
            "6",
        ],
    }
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    out = crate / "out"

    def once(cmd: List[str]) -> float:
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        proc = subprocess.run(
            [*cmd, "-o", str(out)], cwd=crate, env=env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"{cmd[:3]} failed:\n{proc.stdout}\n{proc.stderr}")
        return elapsed

    for cmd in commands.values():
        once(cmd)  # compile, untimed: the timed runs are cargo no-ops plus the wheel write
    times: Dict[str, List[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, cmd in commands.items():
            times[label].append(once(cmd))
    reference = statistics.median(times["maturin build (deflated 6)"])
    print(f"\nPart 2: whole commands (no-op cargo build + wheel write), median of {runs}")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  {label:44} {median:7.3f} s   ratio {median / reference:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crate", default="pyo3-pure", help="test crate under test-crates/")
    parser.add_argument("--python", default="3.12", help="interpreter to build for")
    parser.add_argument("-n", "--runs", type=int, default=5, help="timed runs per case")
    parser.add_argument("--library", type=Path, help="a file to use as the library in part 1")
    args = parser.parse_args()
    fair.compile_checkout()
    python = str(resolve(args.python).executable)
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp_name:
        tmp = Path(tmp_name)
        crate = tmp / args.crate
        shutil.copytree(
            REPO / "test-crates" / args.crate,
            crate,
            ignore=shutil.ignore_patterns("target", "*.so"),
        )
        target = Path(os.environ.get("MATURIN_NOX_BENCH_TARGET", tmp / "target"))
        built = subprocess.run(
            [
                sys.executable,
                "-m",
                "maturin_nox",
                "build",
                "-q",
                "-i",
                python,
                "--target-dir",
                str(target / "nox"),
                "-o",
                str(tmp / "first"),
            ],
            cwd=crate,
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            sys.exit(f"maturin-nox build failed:\n{built.stderr}")
        (first,) = (tmp / "first").glob("*.whl")
        members = dict(read_wheel(first).files)
        library = max(members, key=lambda n: len(members[n]))
        if args.library is not None:
            members[library] = args.library.read_bytes()
        print(
            f"crate {args.crate}, Python {args.python}, library {library} ({len(members[library]) / 1e6:.1f} MB)"
        )
        in_process(members, args.runs, tmp / "part1")
        cli_runs(crate, target, python, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
