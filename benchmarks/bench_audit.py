"""Time ``maturin-nox audit`` against ``auditwheel show`` on the same real wheels, same run.

Each tool runs as a fresh process, as a user would run it (so start-up and
import time count for both), ``--repeat`` times per wheel; then both engines
are timed in this process (``analyze_wheel`` against auditwheel's
``analyze_wheel_abi``), which leaves start-up out. The best time of each is
compared; ratios are ours/theirs. Wheels come from the test cache (``~/.cache/maturin-nox-tests/wheels``)
and are downloaded there on first use.

    python benchmarks/bench_audit.py [--repeat 3] [WHEEL ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Sequence

CACHE = Path.home() / ".cache" / "maturin-nox-tests" / "wheels"
DEFAULT = [
    ("numpy==2.1.3", "manylinux_2_17_x86_64"),
    ("cryptography==43.0.3", "manylinux_2_17_x86_64"),
    ("pyyaml==6.0.2", "manylinux_2_17_x86_64"),
    ("orjson==3.10.11", "manylinux_2_17_x86_64"),
]


def default_wheels() -> List[Path]:
    """The benchmark wheels, downloaded into the cache when missing."""
    wheels = []
    for requirement, platform in DEFAULT:
        name, version = requirement.split("==")
        found = [
            p
            for p in CACHE.glob(f"*-{version}-*{platform}*.whl")
            if p.name.lower().startswith(name)
        ]
        if not found:
            CACHE.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--only-binary=:all:",
                    "--no-deps",
                    "--python-version",
                    "3.11",
                    "--platform",
                    platform,
                    requirement,
                    "-d",
                    str(CACHE),
                ],
                check=True,
            )
            found = [
                p
                for p in CACHE.glob(f"*-{version}-*{platform}*.whl")
                if p.name.lower().startswith(name)
            ]
        wheels.append(found[0])
    return wheels


def best_time(command: Sequence[str], repeat: int) -> float:
    """The fastest of ``repeat`` runs of a command, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def best_call(func: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def in_process(wheels: Sequence[Path], repeat: int) -> None:
    """Time both engines as library calls, start-up excluded."""
    from auditwheel.wheel_abi import analyze_wheel_abi, get_wheel_elfdata

    from maturin_nox.audit.report import analyze_wheel

    def theirs(wheel: Path) -> object:
        get_wheel_elfdata.cache_clear()  # it memoizes per wheel
        return analyze_wheel_abi(
            None, None, wheel, frozenset(), disable_isa_ext_check=False, allow_graft=False
        )

    print("\nin-process (library call, no start-up):")
    print(f"{'wheel':<60} {'ours':>8} {'auditwheel':>11} {'ratio':>6}")
    for wheel in wheels:
        ours = best_call(lambda w=wheel: analyze_wheel(w), repeat)  # type: ignore[misc]
        other = best_call(lambda w=wheel: theirs(w), repeat)  # type: ignore[misc]
        print(f"{wheel.name[:60]:<60} {ours:>7.3f}s {other:>10.3f}s {ours / other:>6.2f}")


def main() -> int:
    """Run the comparison and print a table of times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    wheels = args.wheels or default_wheels()
    print("as commands (fresh process each run):")
    print(f"{'wheel':<60} {'size':>8} {'ours':>8} {'auditwheel':>11} {'ratio':>6}")
    total_ours = total_theirs = 0.0
    for wheel in wheels:
        ours = best_time([sys.executable, "-m", "maturin_nox", "audit", str(wheel)], args.repeat)
        theirs = best_time([sys.executable, "-m", "auditwheel", "show", str(wheel)], args.repeat)
        total_ours += ours
        total_theirs += theirs
        size = f"{wheel.stat().st_size / 1e6:.1f}MB"
        print(
            f"{wheel.name[:60]:<60} {size:>8} {ours:>7.2f}s {theirs:>10.2f}s {ours / theirs:>6.2f}"
        )
    print(
        f"{'total':<60} {'':>8} {total_ours:>7.2f}s {total_theirs:>10.2f}s "
        f"{total_ours / total_theirs:>6.2f}"
    )
    in_process(wheels, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
