"""The edit loop, maturin-nox against maturin 1.16, side by side in one run.

A mixed pyo3 crate with a python-source folder (test-crates/pyo3-mixed), one
copy and one cargo target dir per tool, the dev profile unless noted:

(1) a no-op ``build``, 1 interpreter;
(2) append a comment to src/lib.rs, ``build``, 1 interpreter;
(3) the same, 4 interpreters;
(4) ``develop`` after the edit (each tool into its own virtualenv);
(5) the first build for 4 interpreters, crates already downloaded (a fresh
    target dir each run), wall clock and CPU seconds;
(6) the edit of (2) with the release profile.

Each row is the median of --runs runs, the tools alternating; the ratio is
maturin-nox / maturin (lower is better). Targets: (1) <= 0.2, (2) <= 0.5,
(4) <= 0.15, (5) <= 0.7 with CPU seconds at most maturin's.

    python benchmarks/bench_loop.py [--runs 5] [--cold-runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import fair

REPO = Path(__file__).resolve().parents[1]
CRATE = REPO / "test-crates" / "pyo3-mixed"
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
TOOLS = ("maturin", "maturin-nox")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: Sequence[str], env: Dict[str, str], cwd: Path) -> Tuple[float, float]:
    """Run a command; its wall clock and CPU seconds (with every process it waited for)."""
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(
        list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return wall, children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    maturin = fair.maturin()
    fair.compile_checkout()
    sys.path.insert(0, str(REPO))
    from maturin_nox.interpreters import resolve
    from maturin_nox.venv import create

    pythons = [str(resolve(v).executable) for v in VERSIONS]
    work = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CARGO_TARGET_DIR", "VIRTUAL_ENV", "PYTHONPATH")
    }
    crates: Dict[str, Path] = {}
    envs: Dict[str, Dict[str, str]] = {}
    venvs = {}
    for tool in TOOLS:
        crates[tool] = work / f"crate-{tool}"
        shutil.copytree(CRATE, crates[tool], ignore=shutil.ignore_patterns("target", "*.so"))
        envs[tool] = {**base, "CARGO_TARGET_DIR": str(work / f"target-{tool}")}
        venvs[tool] = create(pythons[2], work / f"venv-{tool}", backend="virtualenv")
    envs["maturin-nox"]["PYTHONPATH"] = str(REPO)
    # a cold row measures a machine that built nothing like it: no other project's build seeds it
    envs["maturin-nox"]["MATURIN_NOX_SEED"] = "local"

    def build(tool: str, selected: Sequence[str], *extra: str) -> List[str]:
        i_args = [a for p in selected for a in ("-i", p)]
        out = ["-o", str(work / f"wheels-{tool}")]
        if tool == "maturin":
            return [maturin, "build", "-q", *out, *i_args, *extra]
        return [sys.executable, "-m", "maturin_nox", "build", "-q", *out, *i_args, *extra]

    def develop(tool: str) -> List[str]:
        if tool == "maturin":
            return [maturin, "develop", "-q"]
        return [sys.executable, "-m", "maturin_nox", "develop", "-q"]

    def develop_env(tool: str) -> Dict[str, str]:
        venv = venvs[tool]
        return {
            **envs[tool],
            "VIRTUAL_ENV": str(venv.path),
            "PATH": f"{venv.bin_dir}{os.pathsep}{base['PATH']}",
        }

    def edit(tool: str) -> None:
        lib = crates[tool] / "src" / "lib.rs"
        with open(lib, "a", encoding="utf-8") as handle:
            handle.write("// edited\n")

    print(
        f"crate: {CRATE.name}; interpreters: {', '.join(VERSIONS)}; runs: {args.runs}", flush=True
    )
    print("warming up (full builds, both profiles, develop)...", flush=True)
    run(["pip", "install", "-q", "pip"], develop_env("maturin"), work)
    for tool in TOOLS:
        run(build(tool, pythons), envs[tool], crates[tool])
        run(build(tool, pythons[2:3], "--release"), envs[tool], crates[tool])
        run(develop(tool), develop_env(tool), crates[tool])

    rows: Dict[str, Dict[str, List[float]]] = {}

    def measure(
        label: str,
        make: Callable[[str], Tuple[List[str], Dict[str, str]]],
        prepare: Optional[Callable[[str], None]] = None,
    ) -> None:
        rows[label] = {tool: [] for tool in TOOLS}
        for _ in range(args.runs):
            for tool in TOOLS:
                if prepare is not None:
                    prepare(tool)
                cmd, env = make(tool)
                rows[label][tool].append(run(cmd, env, crates[tool])[0])

    one = pythons[2:3]
    # (1): build for the one interpreter first, so both tools' last build matches
    for tool in TOOLS:
        run(build(tool, one), envs[tool], crates[tool])
    measure("(1) no-op build, 1 interpreter", lambda t: (build(t, one), envs[t]))
    measure("(2) edit src/lib.rs, build, 1 interpreter", lambda t: (build(t, one), envs[t]), edit)
    measure("(3) the same, 4 interpreters", lambda t: (build(t, pythons), envs[t]), edit)
    measure("(4) develop after the edit", lambda t: (develop(t), develop_env(t)), edit)
    measure(
        "(6) edit, build --release, 1 interpreter",
        lambda t: (build(t, one, "--release"), envs[t]),
        edit,
    )

    cold: Dict[str, List[Tuple[float, float]]] = {tool: [] for tool in TOOLS}
    for index in range(args.cold_runs):
        for tool in TOOLS:
            env = {**envs[tool], "CARGO_TARGET_DIR": str(work / f"cold-{tool}-{index}")}
            cold[tool].append(run(build(tool, pythons), env, crates[tool]))
            shutil.rmtree(work / f"cold-{tool}-{index}", ignore_errors=True)

    print()
    print(f"{'loop':46} {'maturin':>9} {'maturin-nox':>12} {'ratio':>7}")
    for label in sorted(rows, key=lambda s: s[:3]):
        m = statistics.median(rows[label]["maturin"])
        o = statistics.median(rows[label]["maturin-nox"])
        print(f"{label:46} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
    mw = statistics.median(w for w, _ in cold["maturin"])
    ow = statistics.median(w for w, _ in cold["maturin-nox"])
    mc = statistics.median(c for _, c in cold["maturin"])
    oc = statistics.median(c for _, c in cold["maturin-nox"])
    print(f"{'(5) first build, 4 interpreters (wall)':46} {mw:8.2f}s {ow:11.2f}s {ow / mw:7.2f}")
    print(f"{'(5) first build, 4 interpreters (CPU)':46} {mc:8.2f}s {oc:11.2f}s {oc / mc:7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
