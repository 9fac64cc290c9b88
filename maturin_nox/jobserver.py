"""One pool of job slots for the cargo processes a matrix build runs at once.

Each cargo makes a jobserver of its own, as many slots as there are cores, so
two cargos side by side run up to twice as many rustc jobs (and LLVM threads)
as the machine has cores; the oversubscription costs CPU time (measured: more
interpreters at once cost more CPU seconds, for no gain on the wall clock).
Cargo and rustc take their slots from an inherited GNU make jobserver instead
when the environment names one (``CARGO_MAKEFLAGS``), so the cargos a build
runs together share one here.

Every cargo holds one implicit slot (the one it runs its first job on) that
never passes through the pipe. So that K cargos running together still use no
more than ``slots`` jobs, a keeper thread takes K - 1 tokens out of the pipe
and holds them, and puts them back as cargos end: one cargo alone gets every
slot, two share them.

Nothing is shared when the user chose the job count (``-j``, ``CARGO_BUILD_JOBS``)
or maturin-nox itself runs under a jobserver (``make -j``): theirs is left in
charge, as are platforms without ``os.pipe`` file descriptors to pass (Windows).
"""

from __future__ import annotations

import contextvars
import logging
import os
import select
import threading
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

__all__ = ["JobServer", "OtherLoad", "active", "lower_priority", "shared"]

log = logging.getLogger("maturin_nox")

_TOKEN = b"+"
# the build's own: a ContextVar, so two builds running at once in one process (threads)
# never see each other's (worker threads get it through contextvars.copy_context)
_ACTIVE: contextvars.ContextVar[Optional[JobServer]] = contextvars.ContextVar(
    "maturin_nox_jobserver", default=None
)
_INHERITED = ("CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_BUILD_JOBS")


class JobServer:
    """A GNU make jobserver pipe with ``slots`` slots, one implicit per running cargo."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, True)
        os.write(self.write_fd, _TOKEN * (self.slots - 1))
        self.running = 0
        self.held = 0  # tokens the keeper took out of the pipe
        self.wake = threading.Condition()
        self.closed = False
        self.keeper = threading.Thread(target=self._keep, name="maturin-nox-jobserver", daemon=True)
        self.keeper.start()

    def env(self) -> Dict[str, str]:
        """What a cargo needs in its environment to take its slots from here."""
        fds = f"{self.read_fd},{self.write_fd}"
        return {"CARGO_MAKEFLAGS": f"-j --jobserver-fds={fds} --jobserver-auth={fds}"}

    def fds(self) -> Tuple[int, int]:
        return self.read_fd, self.write_fd

    @contextmanager
    def cargo(self) -> Iterator[bool]:
        """Around one cargo process: it holds an implicit slot while it runs.

        Yields True when ``slots`` cargos run already: this one should run in the
        background (see :func:`lower_priority`).
        """
        with self.wake:
            background = self.running >= self.slots
            self.running += 1
            self.wake.notify_all()
        try:
            yield background
        finally:
            with self.wake:
                self.running -= 1
                self.wake.notify_all()

    def _wanted(self) -> int:
        return min(self.slots - 1, max(0, self.running - 1))

    def _keep(self) -> None:
        """Hold one token per running cargo beyond the first; give them back as cargos end."""
        while True:
            with self.wake:
                while not self.closed and self.held == self._wanted():
                    self.wake.wait()
                if self.closed:
                    return
                surplus = self.held > self._wanted()
            if surplus:
                os.write(self.write_fd, _TOKEN)
                with self.wake:
                    self.held -= 1
                continue
            # a token comes back when some rustc ends; wake now and then to re-check
            ready, _, _ = select.select([self.read_fd], [], [], 0.05)
            if ready:
                # blocking: another process may take the token first, then this waits for
                # the next one (every cargo gives its tokens back when it ends)
                got = os.read(self.read_fd, 1)
                with self.wake:
                    self.held += len(got)

    def close(self) -> None:
        with self.wake:
            self.closed = True
            self.wake.notify_all()
        # a killed cargo never gives its tokens back: wake a keeper waiting for one
        os.write(self.write_fd, _TOKEN * self.slots)
        self.keeper.join()
        for fd in (self.read_fd, self.write_fd):
            os.close(fd)


def lower_priority(pid: int) -> None:
    """Run a cargo (and every rustc it starts from now on) at the lowest priority.

    A cold matrix starts every interpreter's cargo together once the shared crates
    are built. Those beyond the first ``slots`` run in the background: they take
    only the cycles the others leave idle (a cargo waiting on one long rustc), and
    they have the machine when the others end, so no core idles at the end while
    the last interpreter builds alone. Measured in ``benchmarks/bench_loop.py``.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
    except (AttributeError, OSError) as exc:  # gone already, or not allowed
        log.debug("Could not lower the priority of cargo %d: %s", pid, exc)


class OtherLoad:
    """How many cores other processes than this one and its children kept busy since
    it was made (Linux: ``/proc``); None where that cannot be read.

    Cargos run in the background only on a machine this build has to itself: behind
    another process's long compilation or test run, a cargo at the lowest priority
    would wait for all of it.
    """

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> Optional[Tuple[float, float, float]]:
        try:
            with open("/proc/stat", encoding="ascii") as handle:
                fields = [int(v) for v in handle.readline().split()[1:]]
            ticks = os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, AttributeError):
            return None
        # user nice system idle iowait irq softirq steal...: busy is all but idle, iowait, steal
        busy = sum(fields[:8]) - fields[3] - fields[4] - (fields[7] if len(fields) > 7 else 0)
        return time.monotonic(), busy / ticks, _tree_cpu(os.getpid()) / ticks

    def cores(self) -> Optional[float]:
        now = self._sample()
        if self.start is None or now is None or now[0] - self.start[0] < 0.5:
            return None
        elapsed = now[0] - self.start[0]
        return max(0.0, (now[1] - self.start[1]) - (now[2] - self.start[2])) / elapsed


def _tree_cpu(root: int) -> float:
    """CPU ticks of a process and its descendants, living and waited for (``/proc``)."""
    stats: Dict[int, Tuple[int, int]] = {}  # pid -> (parent, ticks)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue  # gone
        fields = text[text.rfind(")") + 2 :].split()  # after "pid (comm) "
        # state ppid ... utime(14) stime cutime cstime: fields[11:15] from state at [0]
        stats[int(entry)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    children: Dict[int, List[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += stats.get(pid, (0, 0))[1]
        stack += children.get(pid, [])
    return float(total)


def active() -> Optional[JobServer]:
    """The jobserver the cargos started now share, if a matrix build made one."""
    return _ACTIVE.get()


def _usable(jobs: Optional[int]) -> bool:
    if jobs is not None or os.name != "posix":
        return False
    if os.environ.get("MATURIN_NOX_JOBSERVER") == "0":
        return False
    return not any(os.environ.get(name) for name in _INHERITED)


@contextmanager
def shared(jobs: Optional[int]) -> Iterator[Optional[JobServer]]:
    """A jobserver for the cargos started inside, unless the user chose the job count.

    Worker threads see it when they run in a copy of this context
    (``pool.submit(contextvars.copy_context().run, fn)``).
    """
    if not _usable(jobs):
        yield None
        return
    server = JobServer(os.cpu_count() or 1)
    token = _ACTIVE.set(server)
    log.debug("The cargos of this build share %d job slots", server.slots)
    try:
        yield server
    finally:
        _ACTIVE.reset(token)
        server.close()
