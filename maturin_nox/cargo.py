"""Driving cargo: ``cargo metadata`` once, then builds whose artifacts are read
from cargo's JSON messages, never guessed from folders.

Cargo's own diagnostics go straight to the user's terminal (stderr is
inherited); only the JSON messages on stdout are read here.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
)

from . import faults, jobserver
from .errors import CargoError
from .freshness import cargo_configs

__all__ = [
    "Artifact",
    "CargoOutput",
    "cargo_executable",
    "host_cfg",
    "host_triple",
    "metadata",
    "run_build",
    "rustc_executable",
    "stop_all",
    "target_cfg",
]

log = logging.getLogger("maturin_nox")

# The cargo processes running now, so an interrupt in one thread can stop those of the others.
_RUNNING: Set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()
# told the package id and target kinds of each artifact cargo finishes ("lib", "custom-build"...)
Listener = Callable[[str, Tuple[str, ...]], None]
_PROGRESS: contextvars.ContextVar[Optional[Listener]] = contextvars.ContextVar(
    "maturin_nox_cargo_progress", default=None
)


@contextmanager
def progress(listener: Listener) -> Iterator[None]:
    """Tell ``listener`` the package id and target kinds of every artifact the cargo runs in
    this context finish."""
    token = _PROGRESS.set(listener)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def cargo_executable() -> str:
    """The cargo to run: ``$CARGO`` when set, else ``cargo`` on PATH."""
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if not cargo:
        raise CargoError("cargo was not found on PATH; install Rust from https://rustup.rs.")
    return cargo


_HOST: Optional[str] = None
_HOST_CFG: Optional[FrozenSet[Tuple[str, Optional[str]]]] = None


def rustc_executable() -> str:
    """The rustc cargo runs: ``$RUSTC``, else the one on ``PATH``."""
    return os.environ.get("RUSTC") or shutil.which("rustc") or "rustc"


def host_triple() -> str:
    """The host target triple, and the host's cfg values from the same ``rustc`` call.

    Kept in the cache (it is the machine's): ``rustc --print host-tuple --print cfg``
    (rustc 1.84+; else ``rustc -vV``, and the cfg values when asked for).
    """
    global _HOST, _HOST_CFG
    if _HOST is not None:
        return _HOST
    _HOST, _HOST_CFG = _cached_host()
    if _HOST is not None:
        return _HOST
    if _HOST is None:
        try:  # one call for both
            out = subprocess.run(
                [rustc_executable(), "--print", "host-tuple", "--print", "cfg"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()
            if out and "=" not in out[0] and "-" in out[0]:
                _HOST, _HOST_CFG = out[0].strip(), _parse_cfg(out[1:])
        except (OSError, subprocess.CalledProcessError):
            pass
    if _HOST is None:
        try:
            out = subprocess.run(
                [rustc_executable(), "-vV"], capture_output=True, text=True, check=True
            ).stdout.splitlines()
        except (OSError, subprocess.CalledProcessError):
            raise CargoError("`rustc -vV` failed; is Rust installed?") from None
        for line in out:
            if line.startswith("host:"):
                _HOST = line.split(":", 1)[1].strip()
                break
        else:
            raise CargoError("`rustc -vV` did not print the host triple.")
    _store_host(_HOST, _HOST_CFG)
    return _HOST


def host_cfg() -> FrozenSet[Tuple[str, Optional[str]]]:
    """The host's ``rustc --print cfg`` values (``("unix", None)``, ``("target_os", "linux")``)."""
    global _HOST_CFG
    host_triple()
    if _HOST_CFG is None:
        try:
            out = subprocess.run(
                [rustc_executable(), "--print", "cfg"], capture_output=True, text=True, check=True
            ).stdout.splitlines()
        except (OSError, subprocess.CalledProcessError):
            raise CargoError("`rustc --print cfg` failed; is Rust installed?") from None
        _HOST_CFG = _parse_cfg(out)
        _store_host(host_triple(), _HOST_CFG)
    return _HOST_CFG


def target_cfg(triple: str) -> FrozenSet[Tuple[str, Optional[str]]]:
    """``rustc --print cfg --target TRIPLE`` (the host's own values for the host triple)."""
    if triple == host_triple():
        return host_cfg()
    return _foreign_cfg(triple)


@functools.lru_cache(maxsize=None)
def _foreign_cfg(triple: str) -> FrozenSet[Tuple[str, Optional[str]]]:
    """Another target's cfg values: one rustc run per triple and process."""
    try:
        out = subprocess.run(
            [rustc_executable(), "--print", "cfg", "--target", triple],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        raise CargoError(f"`rustc --print cfg --target {triple}` failed.") from None
    return _parse_cfg(out)


def _parse_cfg(lines: Sequence[str]) -> FrozenSet[Tuple[str, Optional[str]]]:
    out: Set[Tuple[str, Optional[str]]] = set()
    for line in lines:
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        out.add((key, value.strip('"') if sep else None))
    return frozenset(out)


def _host_cache() -> Tuple[Path, str]:
    import platform

    from .common import cache_root

    rustc = os.environ.get("RUSTC") or shutil.which("rustc") or "rustc"
    key = (
        f"{rustc}|{platform.machine()}|{platform.system()}|{os.environ.get('RUSTUP_TOOLCHAIN', '')}"
    )
    return cache_root() / "host-triple.json", key


def _cached_host() -> Tuple[Optional[str], Optional[FrozenSet[Tuple[str, Optional[str]]]]]:
    path, key = _host_cache()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    entry = record.get(key) if isinstance(record, dict) else None
    if isinstance(entry, str):  # an older cache: the triple alone
        return entry, None
    if not isinstance(entry, dict) or not isinstance(entry.get("host"), str):
        return None, None
    cfg = entry.get("cfg")
    lines = [str(c) for c in cfg] if isinstance(cfg, list) else None
    return entry["host"], _parse_cfg(lines) if lines is not None else None


def _store_host(host: str, cfg: Optional[FrozenSet[Tuple[str, Optional[str]]]]) -> None:
    from .atomic import write_text_atomic

    path, key = _host_cache()
    entry: Dict[str, Any] = {"host": host}
    if cfg is not None:
        entry["cfg"] = sorted(k if v is None else f'{k}="{v}"' for k, v in cfg)
    try:
        write_text_atomic(path, json.dumps({key: entry}))
    except OSError:
        pass  # only an optimisation


def metadata(
    manifest_path: Path,
    *,
    features: Sequence[str] = (),
    all_features: bool = False,
    no_default_features: bool = False,
    flags: Sequence[str] = (),
    filter_platform: Optional[str] = None,
) -> Dict[str, Any]:
    """``cargo metadata`` for the manifest, with features applied to the resolve."""
    cmd = [
        cargo_executable(),
        "metadata",
        "--format-version",
        "1",
        "--manifest-path",
        str(manifest_path),
    ]
    if features:
        cmd += ["--features", ",".join(features)]
    if all_features:
        cmd.append("--all-features")
    if no_default_features:
        cmd.append("--no-default-features")
    if filter_platform:
        cmd += ["--filter-platform", filter_platform]
    cmd += list(flags)
    cache_file = _metadata_cache_file(cmd)
    cached = _cached_metadata(cache_file)
    if cached is not None:
        return cached
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = _last_error_line(proc.stderr)
        raise CargoError(f"`cargo metadata` failed for {manifest_path}: {detail}", cmd)
    try:
        data: Dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise CargoError(
            f"`cargo metadata` printed something that is not JSON for {manifest_path}.", cmd
        ) from None
    _store_metadata(cache_file, manifest_path, data)
    return data


# --- the cargo metadata cache ------------------------------------------------------------
#
# `cargo metadata` costs a process and a resolve on every command. Its answer only changes
# when a manifest of the workspace or of a path dependency, the lock file or a cargo
# configuration file changes (or the command line or CARGO_* environment does), so it is
# kept per command line and reused while those files are untouched. Without a lock file
# the resolve can change with the registry: nothing is kept then.


def _metadata_env() -> List[str]:
    return sorted(
        f"{k}={v}"
        for k, v in os.environ.items()
        if k.startswith(("CARGO", "RUSTUP_")) or k == "RUSTC"
    )


def _metadata_cache_file(cmd: Sequence[str]) -> Optional[Path]:
    if os.environ.get("MATURIN_NOX_METADATA_CACHE") == "0":
        return None
    from .common import cache_root

    key = hashlib.sha256(json.dumps([list(cmd[1:]), _metadata_env()]).encode()).hexdigest()
    return cache_root() / "cargo-metadata" / f"{key[:32]}.json"


def _file_state(path: Path) -> Optional[List[int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _metadata_inputs(manifest_path: Path, data: Mapping[str, Any]) -> List[Path]:
    local = [d / "Cargo.toml" for d in _local_package_dirs(data)]
    root = Path(data.get("workspace_root", manifest_path.parent))
    return [manifest_path, root / "Cargo.toml", root / "Cargo.lock", *local, *cargo_configs(root)]


_DISCOVERED_FILES = ("src/lib.rs", "src/main.rs", "build.rs")
_DISCOVERED_DIRS = ("src/bin", "examples", "tests", "benches")


def _target_layout(package_dir: Path) -> List[str]:
    """What cargo's target auto-discovery sees in a package: a new ``src/main.rs`` or
    ``src/bin/x.rs`` is a new target without any manifest changing. Presence only, so that
    editing a source file keeps the cached metadata."""
    seen = [name for name in _DISCOVERED_FILES if (package_dir / name).exists()]
    for folder in _DISCOVERED_DIRS:
        try:
            seen += sorted(f"{folder}/{entry}" for entry in os.listdir(package_dir / folder))
        except OSError:
            pass
    return seen


def _local_package_dirs(data: Mapping[str, Any]) -> List[Path]:
    return [
        Path(p["manifest_path"]).parent for p in data.get("packages", []) if p.get("source") is None
    ]


def _cached_metadata(cache_file: Optional[Path]) -> Optional[Dict[str, Any]]:
    if cache_file is None:
        return None
    try:
        record = json.loads(cache_file.read_text(encoding="utf-8"))
        inputs: Dict[str, Any] = record["inputs"]
        layouts: Dict[str, Any] = record["layouts"]
        data: Dict[str, Any] = record["metadata"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if any(_file_state(Path(p)) != seen for p, seen in inputs.items()):
        return None
    if any(_target_layout(Path(d)) != seen for d, seen in layouts.items()):
        return None
    return data


def _store_metadata(
    cache_file: Optional[Path], manifest_path: Path, data: Mapping[str, Any]
) -> None:
    if cache_file is None:
        return
    root = Path(data.get("workspace_root", manifest_path.parent))
    if not (root / "Cargo.lock").is_file():
        return
    from .atomic import write_text_atomic

    inputs = {str(p): _file_state(p) for p in _metadata_inputs(manifest_path, data)}
    layouts = {str(d): _target_layout(d) for d in _local_package_dirs(data)}
    record = {"inputs": inputs, "layouts": layouts, "metadata": data}
    try:
        write_text_atomic(cache_file, json.dumps(record))
    except OSError:
        pass  # only an optimisation


def _last_error_line(stderr: str) -> str:
    """The most telling line of cargo's error output, for a one-sentence error."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")]
    pick = errors[0] if errors else (lines[-1] if lines else "no output")
    # keep the cause lines cargo indents below the error, they name the file
    idx = lines.index(pick) if pick in lines else -1
    tail = [line for line in lines[idx + 1 : idx + 4] if not line.startswith("error")]
    pick = pick[len("error: ") :] if pick.startswith("error: ") else pick
    text = " ".join([pick, *tail])
    return text.rstrip(".") + "."


@dataclass(frozen=True)
class Artifact:
    """One file cargo produced for a target of the package being built."""

    package_id: str
    target_name: str
    kinds: tuple[str, ...]
    crate_types: tuple[str, ...]
    filenames: tuple[Path, ...]
    executable: Optional[Path]


@dataclass(frozen=True)
class CargoOutput:
    """What cargo runs built: the artifacts, the library folders build scripts linked
    against, and each build script's ``OUT_DIR`` (by package id)."""

    artifacts: Tuple[Artifact, ...] = ()
    linked_paths: Tuple[Path, ...] = ()
    out_dirs: Tuple[Tuple[str, Path], ...] = ()

    def to_json(self) -> Dict[str, Any]:
        """A JSON-able form, for the record of a successful run."""
        return {
            "artifacts": [
                {
                    "package_id": a.package_id,
                    "target_name": a.target_name,
                    "kinds": list(a.kinds),
                    "crate_types": list(a.crate_types),
                    "filenames": [str(f) for f in a.filenames],
                    "executable": str(a.executable) if a.executable else None,
                }
                for a in self.artifacts
            ],
            "linked_paths": [str(p) for p in self.linked_paths],
            "out_dirs": [[pid, str(path)] for pid, path in self.out_dirs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CargoOutput:
        """The output :meth:`to_json` recorded."""
        artifacts = tuple(
            Artifact(
                package_id=str(a["package_id"]),
                target_name=str(a["target_name"]),
                kinds=tuple(a["kinds"]),
                crate_types=tuple(a["crate_types"]),
                filenames=tuple(Path(f) for f in a["filenames"]),
                executable=Path(a["executable"]) if a["executable"] else None,
            )
            for a in data["artifacts"]
        )
        out_dirs = tuple((str(pid), Path(path)) for pid, path in data.get("out_dirs", []))
        return cls(artifacts, tuple(Path(p) for p in data["linked_paths"]), out_dirs)

    def __add__(self, other: CargoOutput) -> CargoOutput:
        linked = self.linked_paths + tuple(
            p for p in other.linked_paths if p not in self.linked_paths
        )
        out_dirs = dict(self.out_dirs)
        out_dirs.update(other.out_dirs)
        return CargoOutput(self.artifacts + other.artifacts, linked, tuple(out_dirs.items()))

    def of_package(self, package_id: str) -> CargoOutput:
        """Only the artifacts of one package (the project's own); linked paths and OUT_DIRs stay."""
        own = tuple(a for a in self.artifacts if a.package_id == package_id)
        return CargoOutput(own, self.linked_paths, self.out_dirs)

    def out_dir(self, package_id: str) -> Optional[Path]:
        """The ``OUT_DIR`` the build script of a package wrote into, if it has one."""
        return dict(self.out_dirs).get(package_id)

    def cdylib(self) -> Optional[Path]:
        """The shared library a ``--crate-type cdylib`` build produced, if any."""
        for artifact in self.artifacts:
            if "cdylib" in artifact.crate_types:
                for filename in artifact.filenames:
                    if filename.suffix in (".so", ".dylib", ".dll", ".pyd"):
                        return filename
        return None

    def debuginfo(self) -> Optional[Path]:
        """The cdylib's separate debug info cargo reported (``.dwp`` with split-debuginfo=packed)."""
        for artifact in self.artifacts:
            if "cdylib" in artifact.crate_types:
                for filename in artifact.filenames:
                    if filename.suffix in (".dwp", ".pdb", ".dSYM"):
                        return filename
        return None


def run_build(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Optional[Path] = None,
    quiet: bool = False,
) -> CargoOutput:
    """Run a cargo build command with JSON messages and return its artifacts."""
    cmd = list(cmd)
    log.debug("Running %s", " ".join(cmd))
    server = jobserver.active()
    with server.cargo() if server else nullcontext(False) as background:
        return _run_build(cmd, env, cwd, quiet, server, background)


def _run_build(
    cmd: List[str],
    env: Mapping[str, str],
    cwd: Optional[Path],
    quiet: bool,
    server: Optional[jobserver.JobServer],
    background: bool,
) -> CargoOutput:
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None,
            env={**env, **server.env()} if server else dict(env),
            cwd=str(cwd) if cwd else None,
            text=True,
            pass_fds=server.fds() if server else (),
        )
    except OSError as exc:
        raise CargoError(f"Cannot run `{cmd[0]}`: {exc.strerror}.", cmd) from None
    if background:
        jobserver.lower_priority(proc.pid)
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        faults.point("build:cargo")
        return _read_messages(proc, cmd)
    except BaseException:
        proc.terminate()  # interrupted: cargo must not go on writing behind our back
        proc.wait()
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)


def stop_all() -> None:
    """Stop every cargo this process is running (another thread was interrupted)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        proc.terminate()


def _read_messages(proc: subprocess.Popen[str], cmd: List[str]) -> CargoOutput:
    """Collect the artifacts and linked paths from cargo's JSON messages until it exits."""
    artifacts: List[Artifact] = []
    linked_paths: List[Path] = []
    out_dirs: Dict[str, Path] = {}
    listener = _PROGRESS.get()
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "build-script-executed":
            if msg.get("out_dir") and msg.get("package_id"):
                out_dirs[str(msg["package_id"])] = Path(msg["out_dir"])
            for linked in msg.get("linked_paths", ()):
                # "native=/path", "dependency=/path" or a bare path
                path = Path(linked.split("=", 1)[1] if "=" in linked else linked)
                if path not in linked_paths:
                    linked_paths.append(path)
        if msg.get("reason") == "compiler-artifact":
            target = msg.get("target", {})
            if listener is not None and msg.get("package_id"):
                listener(str(msg["package_id"]), tuple(target.get("kind", ())))
            artifacts.append(
                Artifact(
                    package_id=msg.get("package_id", ""),
                    target_name=target.get("name", ""),
                    kinds=tuple(target.get("kind", ())),
                    crate_types=tuple(target.get("crate_types", ())),
                    filenames=tuple(Path(f) for f in msg.get("filenames", ())),
                    executable=Path(msg["executable"]) if msg.get("executable") else None,
                )
            )
    code = proc.wait()
    if code != 0:
        shown = " ".join(cmd[:2]) + (
            " " + cmd[2] if len(cmd) > 2 and not cmd[2].startswith("-") else ""
        )
        raise CargoError(
            f"`{shown}` failed with exit code {code}; cargo's errors are shown above.", cmd
        )
    return CargoOutput(tuple(artifacts), tuple(linked_paths), tuple(out_dirs.items()))
