"""Rebuild on import: maturin-nox's finder against maturin-import-hook 0.3, side by side.

The same small mixed pyo3 crate (test-crates/pyo3-mixed) in two copies and two
virtualenvs: one installed with ``maturin develop`` and maturin-import-hook
(``python -m maturin_import_hook site install``, maturin in the venv), one with
``maturin-nox develop`` (its finder is part of the install).

(a) import a fresh project: the overhead over a plain import (the same venv with
    the hook switched off: MATURIN_IMPORT_HOOK_ENABLED=0 / MATURIN_NOX_REBUILD=0),
    medians of --imports runs. Measured with ``python -X importtime`` (the time of
    every import, the finders' checks and sitecustomize included), which a loaded
    machine disturbs far less than the wall clock of a whole interpreter;
(b) edit src/lib.rs, then time ``python -c "import pkg; print(pkg.get_21())"``
    until the new code runs, medians of --runs edits;
(c) touch the package's .pyi: how many builds the next import runs.

Targets: (a) under 5 ms and at most 0.3x the hook's; (b) at most 0.5x; (c) zero builds.

    python benchmarks/bench_import.py [--runs 5] [--imports 30]
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

REPO = Path(__file__).resolve().parents[1]
CRATE = REPO / "test-crates" / "pyo3-mixed"
CODE = "import pyo3_mixed; print(pyo3_mixed.get_21())"


def run(cmd: List[str], env: Dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def import_seconds(cmd: List[str], env: Dict[str, str], cwd: Path) -> float:
    """The total time of the interpreter's top-level imports, from ``-X importtime``."""
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=cwd, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    total = 0
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
                total += int(cumulative)
    return total / 1e6


def timed(cmd: List[str], env: Dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    run(cmd, env, cwd)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imports", type=int, default=30)
    args = parser.parse_args()
    fair.compile_checkout()
    sys.path.insert(0, str(REPO))
    from maturin_nox.interpreters import resolve
    from maturin_nox.venv import create

    python = str(resolve("3.12").executable)
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    neutral = work / "neutral"
    neutral.mkdir()
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CARGO_TARGET_DIR")
    }
    crates = {}
    venvs = {}
    for tool in ("hook", "nox"):
        crates[tool] = work / f"crate-{tool}"
        shutil.copytree(CRATE, crates[tool], ignore=shutil.ignore_patterns("target", "*.so"))
        venvs[tool] = create(python, work / f"venv-{tool}", backend="virtualenv")
    hook_env = {
        **base,
        "VIRTUAL_ENV": str(venvs["hook"].path),
        "PATH": f"{venvs['hook'].bin_dir}{os.pathsep}{base['PATH']}",
    }
    nox_env = {**base, "VIRTUAL_ENV": str(venvs["nox"].path), "PYTHONPATH": str(REPO)}
    run(
        [
            str(venvs["hook"].python),
            "-m",
            "pip",
            "install",
            "-q",
            "maturin==1.16.0",
            "maturin-import-hook==0.3.0",
        ],
        hook_env,
        work,
    )
    run([str(venvs["hook"].python), "-m", "maturin_import_hook", "site", "install"], hook_env, work)
    run(["maturin", "develop", "-q"], hook_env, crates["hook"])
    run([sys.executable, "-m", "maturin_nox", "develop", "-q"], nox_env, crates["nox"])
    env = {"hook": hook_env, "nox": {**nox_env, "PYTHONPATH": ""}}
    off = {"hook": {"MATURIN_IMPORT_HOOK_ENABLED": "0"}, "nox": {"MATURIN_NOX_REBUILD": "0"}}
    cmd = {tool: [str(venvs[tool].python), "-c", CODE] for tool in venvs}
    for tool in venvs:  # let the hook record its first build, untimed
        run(cmd[tool], env[tool], neutral)
        run(cmd[tool], env[tool], neutral)

    overhead: Dict[str, float] = {}
    for tool in venvs:
        on: List[float] = []
        plain: List[float] = []
        for _ in range(args.imports):  # interleaved, so machine load hits both alike
            on.append(import_seconds(cmd[tool], env[tool], neutral))
            plain.append(import_seconds(cmd[tool], {**env[tool], **off[tool]}, neutral))
        overhead[tool] = statistics.median(on) - statistics.median(plain)

    edit: Dict[str, List[float]] = {"hook": [], "nox": []}
    value = 21
    for _ in range(args.runs):
        value += 1
        for tool in venvs:
            lib = crates[tool] / "src" / "lib.rs"
            text = lib.read_text()
            lib.write_text(text.replace(f"    {value - 1}\n", f"    {value}\n"))
            start = time.perf_counter()
            out = run(cmd[tool], env[tool], neutral)
            edit[tool].append(time.perf_counter() - start)
            if str(value) not in out.split():
                sys.exit(f"{tool}: the edit was not picked up: {out}")

    builds: Dict[str, str] = {}
    for tool in venvs:
        stub = crates[tool] / "python" / "pyo3_mixed" / "_native.pyi"
        stub.write_text(stub.read_text() + "\n# touched\n")
        start = time.perf_counter()
        verbose = {
            "hook": {"MATURIN_IMPORT_HOOK_LOG_LEVEL": "DEBUG"},
            "nox": {"MATURIN_NOX_REBUILD": "verbose"},
        }
        out = run(cmd[tool], {**env[tool], **verbose[tool]}, neutral)
        seconds = time.perf_counter() - start
        rebuilt = "Compiling" in out or "rebuilt" in out or "building" in out.lower()
        builds[tool] = f"{'1 build' if rebuilt else '0 builds'} ({seconds:.2f} s)"

    print(
        f"crate: {CRATE.name}; interpreter: {python}; imports: {args.imports}; edits: {args.runs}"
    )
    print()
    print(f"{'case':52} {'import-hook':>13} {'maturin-nox':>13} {'ratio':>7}")
    h, n = overhead["hook"], overhead["nox"]
    print(
        f"{'(a) import overhead over a plain import':52} {h * 1000:11.1f}ms {n * 1000:11.1f}ms {n / h if h > 0 else float('nan'):7.2f}"
    )
    h, n = statistics.median(edit["hook"]), statistics.median(edit["nox"])
    print(
        f"{'(b) edit src/lib.rs, import until the new code runs':52} {h:12.2f}s {n:12.2f}s {n / h:7.2f}"
    )
    print(f"{'(c) touch the .pyi, import':52} {builds['hook']:>13} {builds['nox']:>13}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
