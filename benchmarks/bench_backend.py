"""The build backend through real frontends, maturin's against ours, side by side in one run.

The same tiny abi3 crate (test-crates/pyo3-abi3) in two copies that differ only
in [build-system]: ``maturin`` (from PyPI) and ``maturin-nox-core`` (built from
this checkout into a local wheel folder). Every frontend runs in build isolation:

(a) ``pip install .``, first time: a fresh copy, so a cold release build (the
    crates already downloaded), into a fresh virtualenv, with an empty
    maturin-nox cache folder (nothing built on this machine before); and
    maturin-nox again with ``MATURIN_NOX_WARM=0`` (its compile then starts in
    build_wheel, as maturin's does, not at the first hook), against the same
    maturin runs;
(a') the same first install, the maturin-nox cache holding the build of another
    project with the same dependencies (the crate under another package name,
    installed once, untimed): maturin-nox starts from its crates, maturin has no
    such cache and is timed as in (a);
(b) ``pip install --force-reinstall .`` again, nothing changed, into the
    virtualenv it was first installed into;
(b') the same into a new virtualenv (a nox or tox session made afresh):
    maturin's PYO3_PYTHON changes with it, so it compiles pyo3 again;
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
from typing import Dict, List, Tuple

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


def project(work: Path, tool: str, name: str, package: str = "pyo3-abi3") -> Path:
    """A copy of the crate whose [build-system] names ``tool``'s backend.

    ``package`` renames the Cargo package and the distribution: another project.
    """
    dest = work / name
    shutil.copytree(CRATE, dest, ignore=shutil.ignore_patterns("target", "*.so"))
    text = (dest / "pyproject.toml").read_text()
    requires, backend = BACKENDS[tool]
    text = text.replace('requires = ["maturin-nox-core"]', requires)
    text = text.replace('build-backend = "maturin_nox.backend"', backend)
    text = text.replace('name = "pyo3-abi3"', f'name = "{package}"')
    (dest / "pyproject.toml").write_text(text)
    for lock in ("Cargo.toml", "Cargo.lock"):
        path = dest / lock
        path.write_text(path.read_text().replace('name = "pyo3-abi3"', f'name = "{package}"'))
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
    reinstall = ["-m", "pip", "install", "-q", "--force-reinstall", "--no-deps"]
    dist = ["-o", str(work / "dist")]
    slug = {"b": "b", "b'": "b2", "c": "c", "d": "d"}

    def frontend(case: str, tool: str, round_: int) -> List[str]:
        """The command of a warm case. Each case has a copy of the crate of its own per
        tool, so one frontend's PYO3_PYTHON never leaves another's to be compiled again."""
        if case == "b":  # the virtualenv the copy was first installed into
            return [str(work / f"venv-b-{tool}" / "bin" / "python"), *reinstall]
        if case == "b'":  # a new one each time
            venv = create(python, work / f"venv-b2-{tool}-{round_}", backend="virtualenv")
            return [str(venv.python), *reinstall]
        if case == "c":
            return [str(builder_env.python), "-m", "build", "-q", *dist]
        return [str(uv), "build", "-q", "--wheel", "--python", python, *dist]

    print(f"crate: {CRATE.name} (abi3); interpreter: {python}; runs: {args.runs}", flush=True)
    warm: Dict[Tuple[str, str], Path] = {}
    for tool in tools:  # each case's copy built once, untimed, by its own frontend
        create(python, work / f"venv-b-{tool}", backend="virtualenv")
        for case, name in slug.items():
            warm[case, tool] = project(work, tool, f"warm-{name}-{tool}")
            run([*frontend(case, tool, -1), str(warm[case, tool])], env, work)
    # (a'): a cache that holds only another project's build of the same dependencies
    other_env = {**env, "MATURIN_NOX_CACHE_DIR": str(work / "cache-other")}
    other = project(work, "maturin-nox", "other-project", package="pyo3-abi3-other")
    venv = create(python, work / "venv-other", backend="virtualenv")
    run([str(venv.python), "-m", "pip", "install", "-q", str(other)], other_env, work)

    def first_install(tool: str, name: str, run_env: Dict[str, str]) -> float:
        """A fresh copy into a fresh venv; its target folder is removed afterwards."""
        fresh = project(work, tool, name)
        venv = create(python, work / f"venv-{name}", backend="virtualenv")
        took = timed([str(venv.python), "-m", "pip", "install", "-q", str(fresh)], run_env, work)
        shutil.rmtree(fresh / "target", ignore_errors=True)
        return took

    cases = ("a", "a'", *slug)
    times: Dict[str, Dict[str, List[float]]] = {case: {t: [] for t in tools} for case in cases}
    cold_off: List[float] = []  # (a) with MATURIN_NOX_WARM=0
    for round_ in range(args.runs):
        for tool in tools:  # alternate, so load on the machine hits both alike
            empty = {**env, "MATURIN_NOX_CACHE_DIR": str(work / f"cache-empty-{tool}-{round_}")}
            times["a"][tool].append(first_install(tool, f"fresh-{tool}-{round_}", empty))
            if tool == "maturin-nox":
                off = {**env, "MATURIN_NOX_CACHE_DIR": str(work / f"cache-off-{round_}")}
                off["MATURIN_NOX_WARM"] = "0"
                cold_off.append(first_install(tool, f"fresh-off-{round_}", off))
                times["a'"][tool].append(first_install(tool, f"shared-{round_}", other_env))
            else:
                times["a'"][tool].append(times["a"][tool][-1])  # maturin has no such cache
            for case in slug:
                cmd = frontend(case, tool, round_)
                times[case][tool].append(timed([*cmd, str(warm[case, tool])], env, work))
            print(
                f"  round {round_ + 1} {tool}: "
                + ", ".join(f"{c} {times[c][tool][-1]:.2f}s" for c in cases)
                + (
                    f" (a, MATURIN_NOX_WARM=0: {cold_off[-1]:.2f}s)"
                    if tool == "maturin-nox"
                    else ""
                ),
                flush=True,
            )
    labels = {
        "a": "(a) pip install ., first time, cache empty",
        "a'": "(a') the same, another project's build cached",
        "b": "(b) pip install --force-reinstall ., warm",
        "b'": "(b') the same into a new virtualenv",
        "c": "(c) python -m build, warm",
        "d": "(d) uv build --wheel, warm",
    }
    print()
    print(f"{'case':48} {'maturin':>9} {'maturin-nox':>12} {'ratio':>7}")
    for case, label in labels.items():
        m = statistics.median(times[case]["maturin"])
        o = statistics.median(times[case]["maturin-nox"])
        print(f"{label:48} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
        if case == "a":
            o = statistics.median(cold_off)
            print(f"{'    the same, MATURIN_NOX_WARM=0':48} {m:8.2f}s {o:11.2f}s {o / m:7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
