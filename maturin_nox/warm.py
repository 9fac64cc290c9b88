"""Start a PEP 517 build's compile at the frontend's first hook, and join it in build_wheel.

pip, uv and ``python -m build`` call ``get_requires_for_build_wheel`` (pip
and uv then ``prepare_metadata_for_build_wheel``) well before
``build_wheel``: in between they install the extra build requirements,
resolve the project's dependencies and download them, and start a new hook
process. The compile ``build_wheel`` will run is known at the first hook
already, so that hook starts it in a background process (the *warm build*):
the same options, the same cargo command and environment, under the same
target lock. ``build_wheel`` (or ``build_editable``) first waits for it and
relays its output, then builds as always; cargo's record of the warm run
says nothing changed, so cargo is not run again. The wheel is the one the
build would have made without it: only the moment cargo starts differs.

A warm build stops, killing its cargo, as soon as the frontend that started
it is gone without building (``uv lock`` or ``pip install --dry-run`` only
ask for metadata; Ctrl-C stops the frontend). A second hook that would start
one while it runs starts none. Its failure is silent: ``build_wheel`` then
runs cargo itself and reports what went wrong. ``MATURIN_NOX_WARM=0`` turns
it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Dict, List, Mapping, Optional

__all__ = ["ENV_VAR", "join", "start"]

log = logging.getLogger("maturin_nox")

ENV_VAR = "MATURIN_NOX_WARM"
_POLL = 0.2  # seconds between two looks at the frontend


def _enabled() -> bool:
    return os.environ.get(ENV_VAR, "1") not in ("0", "false", "no", "off")


def _files(config_settings: Optional[Mapping[str, Any]], editable: bool) -> Dict[str, Path]:
    """The lock, log and status files of the warm build for this folder and these settings."""
    from .common import cache_root

    key = json.dumps([str(Path.cwd().resolve()), editable, config_settings or {}], sort_keys=True)
    stem = cache_root() / "warm" / hashlib.sha256(key.encode()).hexdigest()[:20]
    return {name: stem.with_suffix(f".{name}") for name in ("lock", "log", "status")}


def _start_time(pid: int) -> Optional[str]:
    """The process's start time in clock ticks (Linux /proc), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, started: Optional[str]) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started is None or _start_time(pid) == started


def start(config_settings: Optional[Mapping[str, Any]] = None, *, editable: bool = False) -> None:
    """Start the warm build of this folder's wheel (a no-op when one runs, or it is turned off)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no flock to hand over
        return
    if not _enabled():
        return
    files = _files(config_settings, editable)
    try:
        files["lock"].parent.mkdir(parents=True, exist_ok=True)
        lock = open(files["lock"], "a+b")
    except OSError:
        return
    with lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # a warm build of the same wheel runs already
        frontend = os.getppid()
        request = {
            "config_settings": dict(config_settings or {}),
            "editable": editable,
            "frontend": frontend,
            "started": _start_time(frontend),
            "status": str(files["status"]),
            "path": sys.path,
        }
        files["status"].unlink(missing_ok=True)
        with open(files["log"], "wb") as out:
            # the child inherits the lock (the same open file): it is held until the child exits
            subprocess.Popen(
                [sys.executable, "-c", _BOOT, json.dumps(request)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                pass_fds=(lock.fileno(),),
                start_new_session=True,  # its own group: it kills its cargo with it
                close_fds=True,
            )
    log.debug("Started the warm build (log: %s)", files["log"])


_BOOT = (
    "import json, sys; r = json.loads(sys.argv[1]); sys.path[:] = r['path']; "
    "from maturin_nox.warm import _run; _run(r)"
)


def join(
    config_settings: Optional[Mapping[str, Any]] = None,
    *,
    editable: bool = False,
    stream: Optional[IO[str]] = None,
) -> None:
    """Wait for this folder's warm build, if one was started, and relay what cargo said in it."""
    from .locks import exclusive

    files = _files(config_settings, editable)
    if not files["lock"].exists():
        return
    began = time.monotonic()
    with exclusive(files["lock"]):
        try:
            status = json.loads(files["status"].read_text())
            # a warm build this frontend started (not a leftover of another), that succeeded
            ours = status.get("ok") is True and status.get("frontend") == os.getppid()
            text = files["log"].read_text(errors="replace") if ours else ""
        except (OSError, ValueError, AttributeError):
            text = ""  # killed, or failed: build_wheel runs cargo and says what went wrong
        for leftover in files.values():
            leftover.unlink(missing_ok=True)
    if text:
        log.debug("Joined the warm build after %.2f s", time.monotonic() - began)
        (stream or sys.stderr).write(text)
        (stream or sys.stderr).flush()


def _run(request: Mapping[str, Any]) -> None:
    """The warm build's process: compile under the target lock while the frontend lives."""
    frontend, started = int(request["frontend"]), request.get("started")
    status = Path(request["status"])
    done = threading.Event()
    result: List[bool] = []

    def compile_it() -> None:
        try:
            _compile(request["config_settings"], bool(request["editable"]))
            result.append(True)
        except BaseException as exc:  # anything: build_wheel runs cargo itself and reports it
            print(f"warm build: {exc}", file=sys.stderr, flush=True)
            result.append(False)
        finally:
            done.set()

    threading.Thread(target=compile_it, daemon=True).start()
    while not done.wait(_POLL):
        if not _alive(frontend, started):
            os.killpg(os.getpgrp(), signal.SIGTERM)  # cargo, rustc and this process
    try:
        status.write_text(json.dumps({"ok": bool(result and result[0]), "frontend": frontend}))
    except OSError:
        pass


def _compile(config_settings: Mapping[str, Any], editable: bool) -> None:
    from .backend import hook_options
    from .builder import compile_target, open_project, target_lock
    from .locks import exclusive
    from .plan import resolve_plan

    options = hook_options(config_settings, editable=editable)
    plan = resolve_plan(open_project(options), options)
    if len(plan.targets) != 1:
        return  # build_wheel refuses it
    target = plan.targets[0]
    # one warm build at a time on the machine: pip asks every sdist for its requirements
    # before it builds the first wheel, and N release builds at once would need N times the memory
    with exclusive(_slot()), target_lock(plan, target):
        compile_target(plan, target)


def _slot() -> Path:
    from .common import cache_root

    return cache_root() / "warm" / "slot.lock"
