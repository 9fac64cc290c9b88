"""The job slots the cargos of a matrix share (maturin_nox.jobserver), without cargo:
the keeper's accounting, the tokens left in the pipe, and a clean end when a
cargo died holding tokens. Real cargos sharing it: tests/test_seeding.py."""

from __future__ import annotations

import array
import fcntl
import os
import termios
import threading
import time

import pytest

from maturin_nox import jobserver
from maturin_nox.jobserver import JobServer


def _in_pipe(server: JobServer) -> int:
    """How many tokens wait in the pipe (read without taking them)."""
    count = array.array("i", [0])
    fcntl.ioctl(server.read_fd, termios.FIONREAD, count, True)
    return count[0]


def _settles(server: JobServer, held: int) -> None:
    deadline = time.monotonic() + 5
    while server.held != held or _in_pipe(server) != server.slots - 1 - held:
        assert time.monotonic() < deadline, (server.held, _in_pipe(server))
        time.sleep(0.01)


def test_each_cargo_beyond_the_first_takes_a_slot_out_of_the_pipe() -> None:
    server = JobServer(3)
    try:
        _settles(server, 0)  # one cargo alone may run 3 jobs: its own and 2 tokens
        with server.cargo() as first:
            _settles(server, 0)
            with server.cargo() as second:
                _settles(server, 1)
                with server.cargo() as third:
                    _settles(server, 2)
                    with server.cargo() as fourth:  # beyond the slots: in the background
                        _settles(server, 2)
                        assert (first, second, third, fourth) == (False, False, False, True)
                _settles(server, 1)
            _settles(server, 0)
        assert server.running == 0
    finally:
        server.close()


def test_a_cargo_that_died_holding_tokens_does_not_hang_the_end() -> None:
    server = JobServer(2)
    assert os.read(server.read_fd, 1) == b"+"  # a rustc took the only token and was killed
    with server.cargo(), server.cargo():
        time.sleep(0.1)  # the keeper waits for a token that never comes back
    ended = threading.Thread(target=server.close)
    ended.start()
    ended.join(5)
    assert not ended.is_alive()


@pytest.mark.parametrize(
    "environ, jobs, shared",
    [
        ({}, None, True),
        ({}, 4, False),  # -j: the user's job count
        ({"CARGO_BUILD_JOBS": "3"}, None, False),
        ({"MAKEFLAGS": "-j8 --jobserver-auth=3,4"}, None, False),  # make's jobserver
        ({"MATURIN_NOX_JOBSERVER": "0"}, None, False),
    ],
)
def test_the_slots_are_shared_unless_the_user_chose_the_job_count(
    monkeypatch: pytest.MonkeyPatch, environ: dict, jobs: object, shared: bool
) -> None:
    for name in ("CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_BUILD_JOBS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with jobserver.shared(jobs) as server:  # type: ignore[arg-type]
        assert (server is not None) == shared
        assert jobserver.active() is server
        if server is not None:
            auth = server.env()["CARGO_MAKEFLAGS"]
            assert f"--jobserver-auth={server.read_fd},{server.write_fd}" in auth
    assert jobserver.active() is None


@pytest.mark.parametrize(
    "flags, config, jobs",
    [
        ((), None, None),
        (("-j", "3"), None, 3),
        (("-j4",), None, 4),
        (("--jobs=5",), None, 5),
        (("--config", "build.jobs=2"), None, 2),
        (("--config", "profile.dev.opt-level=1"), None, None),
        ((), "[build]\njobs = 1\n", 1),
        ((), '[build]\njobs = "default"\n', 0),
        ((), '[build]\ntarget-dir = "t"\n', None),
    ],
)
def test_the_users_job_count_is_read_from_flags_and_cargo_configuration(
    tmp_path, monkeypatch: pytest.MonkeyPatch, flags: tuple, config: object, jobs: object
) -> None:
    from types import SimpleNamespace

    from maturin_nox.builder import _user_jobs

    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo-home"))
    crate = tmp_path / "work" / "crate"
    crate.mkdir(parents=True)
    if config is not None:
        (tmp_path / "work" / ".cargo").mkdir()
        (tmp_path / "work" / ".cargo" / "config.toml").write_text(str(config))
    plan = SimpleNamespace(
        build_flags=flags,
        cargo_args=(),
        project=SimpleNamespace(manifest_path=crate / "Cargo.toml"),
    )
    assert _user_jobs(plan) == jobs  # type: ignore[arg-type]


def test_two_builds_in_one_process_keep_their_own_jobservers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each build's worker threads see its own; one ending leaves the other's in place."""
    import contextvars

    for name in ("CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_BUILD_JOBS"):
        monkeypatch.delenv(name, raising=False)
    seen = {}
    first_inside = threading.Event()
    second_done = threading.Event()

    def build(name: str, hold: bool) -> None:
        with jobserver.shared(None) as server:
            worker = threading.Thread(
                target=contextvars.copy_context().run,
                args=(lambda: seen.setdefault(name, jobserver.active() is server),),
            )
            worker.start()
            worker.join()
            if hold:
                first_inside.set()
                second_done.wait(5)
                seen["still"] = jobserver.active() is server

    def other() -> None:
        first_inside.wait(5)
        build("second", False)
        second_done.set()

    threads = [threading.Thread(target=build, args=("first", True)), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"first": True, "second": True, "still": True}


_SPIN = (
    "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"
)


def test_other_load_counts_other_programs_and_not_this_ones() -> None:
    import subprocess
    import sys

    from maturin_nox.jobserver import OtherLoad

    load = OtherLoad()
    subprocess.run([sys.executable, "-c", _SPIN.format(seconds=1.0)], check=True)  # ours
    ours = load.cores()
    load = OtherLoad()
    # the shell ends at once: the spinner is no descendant of this process any more
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{_SPIN.format(seconds=1.5)}" &'])
    time.sleep(1.2)
    theirs = load.cores()
    assert ours is not None and ours < 0.5, ours
    assert theirs is not None and theirs > 0.5, theirs
