"""The build backend through real frontends, maturin's against ours, side by side in one run.

The same tiny abi3 crate (test-crates/pyo3-abi3) in two copies that differ only
in [build-system]: ``maturin`` (from PyPI) and ``maturin-nox-core`` (built from
this checkout into a local wheel folder). Every frontend runs in build isolation:

(a) ``pip install .``, first time: a fresh copy, so a cold release build (the
    crates already downloaded), into a fresh virtualenv; and maturin-nox again
    with ``MATURIN_NOX_WARM=0`` (its compile then starts in build_wheel, as
    maturin's does, not at the first hook), against the same maturin runs;
(b) ``pip install --force-reinstall .`` again, nothing changed;
(c) ``python -m build`` again, nothing changed (an sdist, then a wheel from it);
(d) ``uv build --wheel`` again, nothing changed.

Prints medians of --runs runs and the ratio maturin-nox / maturin (lower is
better; targets: (a) <= 0.9, (b) <= 0.5, (d) <= 0.2).

    python benchmarks/bench_backend.py [--runs 3]
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
CRATE = REPO / "test-crates" / "pyo3-abi3"
BACKENDS = {
    "maturin": ('requires = ["maturin>=1.16,<2"]', 'build-backend = "maturin"'),
    "maturin-nox": ('requires = ["maturin-nox-core"]', 'build-backend = "maturin_nox.backend"'),
}


def run(cmd: List[str], env: Dict[str, str], cwd: Path) -> None:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")


def timed(cmd: List[str], env: Dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    run(cmd, env, cwd)
    return time.perf_counter() - start


def project(work: Path, tool: str, name: str) -> Path:
    """A copy of the crate whose [build-system] names ``tool``'s backend."""
    dest = work / name
    shutil.copytree(CRATE, dest, ignore=shutil.ignore_patterns("target", "*.so"))
    text = (dest / "pyproject.toml").read_text()
    requires, backend = BACKENDS[tool]
    text = text.replace('requires = ["maturin-nox-core"]', requires)
    text = text.replace('build-backend = "maturin_nox.backend"', backend)
    (dest / "pyproject.toml").write_text(text)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from maturin_nox.interpreters import resolve
    from maturin_nox.venv import create, find_uv

    uv = find_uv()
    if uv is None:
        sys.exit("uv is not installed: pip install uv (it is in the test extra).")
    python = str(resolve("3.12").executable)
    work = Path(tempfile.mkdtemp(prefix="bench-backend-"))
    wheels = work / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
        dict(os.environ),
        REPO,
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CARGO_TARGET_DIR", "PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(
        PIP_FIND_LINKS=str(wheels),
        UV_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        MATURIN_NOX_CACHE_DIR=str(work / "cache"),
    )
    tools = list(BACKENDS)
    builder_env = create(python, work / "build-tool", backend="virtualenv")
    run([str(builder_env.python), "-m", "pip", "install", "-q", "build"], env, work)
    times: Dict[str, Dict[str, List[float]]] = {case: {t: [] for t in tools} for case in "abcd"}
    cold_off: List[float] = []  # (a) with MATURIN_NOX_WARM=0
    warm = {t: project(work, t, f"warm-{t}") for t in tools}
    print(f"crate: {CRATE.name} (abi3); interpreter: {python}; runs: {args.runs}", flush=True)
    for tool in tools:  # warm each tool's own copy once, untimed
        venv = create(python, work / f"venv-warm-{tool}", backend="virtualenv")
        run([str(venv.python), "-m", "pip", "install", "-q", str(warm[tool])], env, work)
        run(
            [
                str(builder_env.python),
                "-m",
                "build",
                "-q",
                "-o",
                str(work / "dist"),
                str(warm[tool]),
            ],
            env,
            work,
        )
        run(
            [
                str(uv),
                "build",
                "-q",
                "--wheel",
                "--python",
                python,
                "-o",
                str(work / "dist"),
                str(warm[tool]),
            ],
            env,
            work,
        )
    for round_ in range(args.runs):
        for tool in tools:  # alternate, so load on the machine hits both alike
            fresh = project(work, tool, f"fresh-{tool}-{round_}")
            venv = create(python, work / f"venv-{tool}-{round_}", backend="virtualenv")
            pip = [str(venv.python), "-m", "pip", "install", "-q"]
            times["a"][tool].append(timed([*pip, str(fresh)], env, work))
            shutil.rmtree(fresh / "target", ignore_errors=True)
            if tool == "maturin-nox":
                fresh = project(work, tool, f"fresh-off-{round_}")
                venv = create(python, work / f"venv-off-{round_}", backend="virtualenv")
                off = [str(venv.python), "-m", "pip", "install", "-q", str(fresh)]
                cold_off.append(timed(off, {**env, "MATURIN_NOX_WARM": "0"}, work))
                shutil.rmtree(fresh / "target", ignore_errors=True)
            reinstall = [*pip, "--force-reinstall", "--no-deps", str(warm[tool])]
            times["b"][tool].append(timed(reinstall, env, work))
            build = [str(builder_env.python), "-m", "build", "-q", "-o", str(work / "dist")]
            times["c"][tool].append(timed([*build, str(warm[tool])], env, work))
            uv_build = [
                str(uv),
                "build",
                "-q",
                "--wheel",
                "--python",
                python,
                "-o",
                str(work / "dist"),
            ]
            times["d"][tool].append(timed([*uv_build, str(warm[tool])], env, work))
            print(
                f"  round {round_ + 1} {tool}: "
                + ", ".join(f"{times[c][tool][-1]:.2f}s" for c in "abcd")
                + (
                    f" (a, MATURIN_NOX_WARM=0: {cold_off[-1]:.2f}s)"
                    if tool == "maturin-nox"
                    else ""
                ),
                flush=True,
            )
    labels = {
        "a": "(a) pip install ., first time",
        "b": "(b) pip install --force-reinstall ., warm",
        "c": "(c) python -m build, warm",
        "d": "(d) uv build --wheel, warm",
    }
    print()
    print(f"{'case':44} {'maturin':>9} {'maturin-nox':>12} {'ratio':>7}")
    for case, label in labels.items():
        m = statistics.median(times[case]["maturin"])
        o = statistics.median(times[case]["maturin-nox"])
        print(f"{label:44} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
        if case == "a":
            o = statistics.median(cold_off)
            print(f"{'    the same, MATURIN_NOX_WARM=0':44} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
