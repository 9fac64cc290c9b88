"""Virtual environments for any interpreter: made with uv when present, else virtualenv.

`create` makes (or reuses) one environment at a given path, `open_env` wraps an
existing one, `find_active_env` finds the one a developer works in, and
`VenvManager` keeps a cache of environments keyed by interpreter and
requirements so that tests and sessions pay for each environment once.
Installs go through ``uv pip`` for uv-made environments and ``python -m pip``
otherwise. This module knows nothing of nox or tox: they adapt on top of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Union,
)

from .atomic import write_text_atomic
from .common import StrPath, cache_root
from .errors import VenvError
from .locks import exclusive

__all__ = [
    "BACKENDS",
    "BACKEND_ENV_VAR",
    "PythonSpec",
    "VenvError",
    "VenvManager",
    "VirtualEnv",
    "create",
    "default_cache_dir",
    "find_active_env",
    "find_uv",
    "open_env",
]

log = logging.getLogger("maturin_nox")

BACKENDS = ("uv", "virtualenv", "venv")
BACKEND_ENV_VAR = "MATURIN_NOX_VENV_BACKEND"
MARKER = "maturin-nox-env.json"  # written last into a cached env: no marker, not finished
_WINDOWS = os.name == "nt"


class _HasExecutable(Protocol):
    """Anything naming an interpreter by its ``executable`` (an `interpreters.Interpreter`)."""

    @property
    def executable(self) -> Union[str, os.PathLike[str]]: ...


PythonSpec = Union[str, "os.PathLike[str]", _HasExecutable]


# --- tools -----------------------------------------------------------------------------


@lru_cache(maxsize=None)
def find_uv() -> Optional[Path]:
    """The uv executable: the `uv` package's binary, else a real ``uv`` on PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return Path(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    # A pyenv shim for a uv that lives in another version would fail when run.
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if not _is_shim_dir(d)]
    found = shutil.which("uv", path=os.pathsep.join(dirs))
    return Path(found) if found else None


def _is_shim_dir(directory: str) -> bool:
    """Whether a PATH entry is pyenv's shims folder."""
    return Path(directory).name == "shims" and Path(directory).parent.name == ".pyenv"


def _choose_backend(backend: Optional[str]) -> str:
    """The backend asked for (argument, then environment variable), else uv if installed."""
    source = "the backend argument"
    if backend is None:
        backend = os.environ.get(BACKEND_ENV_VAR) or None
        source = BACKEND_ENV_VAR
    if backend is None:
        return "uv" if find_uv() else "virtualenv"
    if backend not in BACKENDS:
        raise VenvError(
            f"Unknown virtual environment backend {backend!r} (from {source}); "
            "choose uv, virtualenv or venv."
        )
    if backend == "uv" and find_uv() is None:
        raise VenvError(
            f"The uv backend was asked for (from {source}) but uv is not installed; "
            "install it with `pip install uv` or choose virtualenv."
        )
    return backend


def _tail(text: str) -> str:
    """The last non-empty line of a command's output, for an error sentence."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].rstrip(".") if lines else "no output"


# --- interpreters ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Base:
    """The interpreter an environment is made from."""

    executable: Path
    version: str  # "3.12.1"
    implementation: str  # "cpython"
    label: str  # what the caller wrote, for error messages


# Named specs ("3.12") cost a PATH and pyenv search with a failing pyenv shim or two:
# remember them for the life of the process, while the executable still exists.
_resolved: Dict[str, _Base] = {}


def _resolve_python(python: PythonSpec) -> _Base:
    """Find and probe the interpreter that `python` names (path, version or Interpreter)."""
    from . import interpreters  # imported late: venv must stay importable on its own

    exe = getattr(python, "executable", None)
    label = str(exe if exe is not None else python)
    cached = _resolved.get(label)
    if cached is not None and cached.executable.exists():
        return cached
    try:
        if exe is not None or not isinstance(python, str):
            interp = interpreters.probe(Path(str(exe if exe is not None else python)))
        else:
            interp = interpreters.resolve(python)
    except interpreters.InterpreterError as exc:
        reason = exc.message[:1].lower() + exc.message[1:]
        if any(s in reason.lower() for s in ("does not exist", "no python interpreter matches")):
            reason = "no such Python interpreter."
        raise VenvError(f"Cannot create a virtual environment for {label}: {reason}") from None
    base = _Base(
        executable=Path(interp.executable),
        version=".".join(str(part) for part in interp.version),
        implementation=interp.implementation,
        label=label,
    )
    if isinstance(python, str) and os.sep not in python:  # paths: probe() checks mtimes
        _resolved[label] = base
    return base


# --- one environment -------------------------------------------------------------------


def _bin_dir(path: Path) -> Path:
    """Where an environment keeps its scripts."""
    return path / ("Scripts" if _WINDOWS else "bin")


def _env_python(path: Path) -> Path:
    """An environment's interpreter (which may be a dangling symlink)."""
    return _bin_dir(path) / ("python.exe" if _WINDOWS else "python")


def _read_cfg(path: Path) -> Dict[str, str]:
    """The ``key = value`` pairs of a pyvenv.cfg."""
    cfg: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            cfg[key.strip().lower()] = value.strip()
    return cfg


@dataclass(frozen=True)
class VirtualEnv:
    """An existing virtual environment and the means to run and install in it."""

    path: Path
    python: Path
    backend: str  # "uv", "virtualenv", "venv" or "conda" (found, never made)

    @property
    def bin_dir(self) -> Path:
        """The folder of the environment's scripts (bin, or Scripts on Windows)."""
        return _bin_dir(self.path)

    @cached_property
    def site_packages(self) -> Path:
        """The environment's purelib folder, asked of its interpreter once."""
        code = "import sysconfig; print(sysconfig.get_path('purelib'))"
        proc = self.run(["python", "-c", code], capture=True)
        return Path(proc.stdout.strip())

    @property
    def has_pip(self) -> bool:
        """Whether pip is installed in the environment."""
        return (self.site_packages / "pip").is_dir()

    @property
    def installer(self) -> str:
        """What installs into this environment: "uv" (``uv pip``) or "pip"."""
        return self._choose_installer(None, None)

    def _choose_installer(self, uv: Optional[bool], has_pip: Optional[bool]) -> str:
        uv_exe = find_uv()
        pip = self.has_pip if has_pip is None else has_pip
        if uv is None:
            uv = uv_exe is not None and (self.backend == "uv" or not pip)
        if uv:
            if uv_exe is None:
                raise VenvError(
                    "uv was asked for but is not installed; install it with `pip install uv`."
                )
            return "uv"
        if pip:
            return "pip"
        raise VenvError(f"Cannot install into {self.path}: it has no pip and uv is not installed.")

    def installer_command(
        self, verb: str = "install", *, uv: Optional[bool] = None, has_pip: Optional[bool] = None
    ) -> Tuple[str, List[str]]:
        """The tool name and command prefix that installs (or uninstalls) in this environment.

        ``uv`` forces (True) or refuses (False) uv; ``has_pip`` saves asking the
        interpreter where its site-packages is when the caller knows.
        """
        if self._choose_installer(uv, has_pip) == "uv":
            uv_exe = find_uv()
            assert uv_exe is not None  # chosen only when found
            return "uv pip", [str(uv_exe), "pip", verb, "--python", str(self.python)]
        return "pip", [str(self.python), "-m", "pip", "--disable-pip-version-check", verb]

    def environ(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """os.environ plus `extra`, with the environment activated (PATH, VIRTUAL_ENV)."""
        env = dict(os.environ)
        env.update(extra or {})
        env.pop("PYTHONHOME", None)  # would point the env's python at another stdlib
        env["VIRTUAL_ENV"] = str(self.path)
        env["PATH"] = os.pathsep.join(p for p in (str(self.bin_dir), env.get("PATH")) if p)
        return env

    def run(
        self,
        args: Sequence[StrPath],
        *,
        cwd: Optional[StrPath] = None,
        env: Optional[Mapping[str, str]] = None,
        check: bool = True,
        capture: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command with the environment activated; `python` and scripts resolve inside."""
        cmd = [os.fspath(arg) for arg in args]
        if not cmd:
            raise VenvError(f"No command was given to run in {self.path}.")
        full_env = self.environ(env)
        # Resolve the program against the env's PATH, not ours: subprocess would use ours
        # on Windows, and naming the file makes logs and errors exact.
        bare = os.sep not in cmd[0] and not (os.altsep and os.altsep in cmd[0])
        found = shutil.which(cmd[0], path=full_env["PATH"]) if bare else None
        program = found or cmd[0]
        log.info("Running %s in %s", shlex.join(cmd), self.path)
        try:
            proc = subprocess.run(
                [program, *cmd[1:]],
                cwd=None if cwd is None else os.fspath(cwd),
                env=full_env,
                text=True,
                capture_output=capture,
            )
        except OSError as exc:
            raise VenvError(f"Cannot run {cmd[0]} in {self.path}: {exc.strerror or exc}.") from None
        if check and proc.returncode != 0:
            detail = _tail(proc.stderr or proc.stdout) if capture else "see the output above"
            raise VenvError(
                f"`{shlex.join(cmd)}` failed in {self.path} (exit {proc.returncode}); {detail}."
            )
        return proc

    def _call(self, tool: str, cmd: List[str], what: str, action: str) -> None:
        """Run an installer command, streaming its output; fail with one sentence."""
        log.info("%s %s %s into %s", tool, action, what, self.path)
        try:
            proc = subprocess.run(cmd, env=self.environ())
        except OSError as exc:
            raise VenvError(f"Cannot run {cmd[0]}: {exc.strerror or exc}.") from None
        if proc.returncode != 0:
            where = "into" if action == "install" else "from"
            raise VenvError(
                f"{tool} {action} of {what} {where} {self.path} failed "
                f"(exit {proc.returncode}); see the output above."
            )

    def install(
        self,
        *requirements: str,
        wheels: Sequence[StrPath] = (),
        extras: Sequence[str] = (),
        requirements_files: Sequence[StrPath] = (),
        find_links: Sequence[StrPath] = (),
        editable: Optional[StrPath] = None,
        no_index: bool = False,
        upgrade: bool = False,
        reinstall: bool = False,
        no_deps: bool = False,
    ) -> None:
        """Install requirements, wheels (with `extras`), requirement files or an editable."""
        extra = f"[{','.join(extras)}]" if extras else ""
        targets = list(requirements)
        names = list(requirements)
        for wheel in wheels:
            path = Path(wheel).absolute()
            targets.append(_wheel_requirement(path, extra))
            names.append(path.name + extra)
        for req_file in requirements_files:
            targets += ["-r", os.fspath(req_file)]
            names.append(os.fspath(req_file))
        if editable is not None:
            targets += ["-e", f"{Path(editable).absolute()}{extra}"]
            names.append(f"{os.fspath(editable)}{extra} (editable)")
        if not targets:
            return
        tool, cmd = self.installer_command("install")
        for link in find_links:
            cmd += ["--find-links", os.fspath(link)]
        if no_index:
            cmd.append("--no-index")
        if upgrade:
            cmd.append("--upgrade")
        if reinstall:
            cmd.append("--reinstall" if tool == "uv pip" else "--force-reinstall")
        if no_deps:
            cmd.append("--no-deps")
        self._call(tool, cmd + targets, ", ".join(names), "install")

    def uninstall(self, *names: str) -> None:
        """Remove distributions by name."""
        if not names:
            return
        tool, cmd = self.installer_command("uninstall")
        if tool == "pip":
            cmd.append("--yes")
        self._call(tool, cmd + list(names), ", ".join(names), "uninstall")


def _wheel_requirement(path: Path, extra: str) -> str:
    """A wheel as an install target; with extras, a PEP 508 direct reference."""
    if not extra:
        return str(path)
    from .wheel import parse_wheel_filename

    # `file.whl[extra]` is a pip-only spelling; `name[extra] @ file:///...` works everywhere.
    return f"{parse_wheel_filename(path.name).name}{extra} @ {path.as_uri()}"


def open_env(path: StrPath) -> VirtualEnv:
    """An existing environment (pyvenv.cfg, or a conda prefix); VenvError if none or broken."""
    root = Path(path).absolute()
    cfg_file = root / "pyvenv.cfg"
    if cfg_file.is_file():
        cfg = _read_cfg(cfg_file)
        backend = "uv" if "uv" in cfg else "virtualenv" if "virtualenv" in cfg else "venv"
    elif (root / "conda-meta").is_dir():
        backend = "conda"
    else:
        raise VenvError(f"{root} is not a virtual environment: it has no pyvenv.cfg.")
    python = _env_python(root)
    if not python.exists():  # follows the symlink: the base interpreter may be gone
        raise VenvError(
            f"The virtual environment {root} is broken: its interpreter "
            f"{os.path.realpath(python)} does not exist."
        )
    return VirtualEnv(root, python, backend)


def _same_interpreter(env: VirtualEnv, base: _Base) -> bool:
    """Whether an existing env was made from `base`."""
    if os.path.realpath(env.python) == os.path.realpath(base.executable):
        return True
    cfg = _read_cfg(env.path / "pyvenv.cfg") if (env.path / "pyvenv.cfg").is_file() else {}
    home = cfg.get("home")
    return home is not None and os.path.realpath(home) == os.path.realpath(base.executable.parent)


def _remove(path: Path) -> None:
    """Delete a folder so that it never looks half-present: rename it away, then delete."""
    if not path.exists() and not path.is_symlink():
        return
    trash = path.with_name(f".{path.name}.trash-{uuid.uuid4().hex[:8]}")
    try:
        path.rename(trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)
    if trash.exists():
        raise VenvError(f"Cannot remove the old environment {path}.")


def _make_uv(base: _Base, path: Path, system_site_packages: bool) -> None:
    """Create with ``uv venv``."""
    uv = find_uv()
    assert uv is not None  # _choose_backend checked
    # --no-project: a pyproject.toml in the cwd must not add requires-python warnings.
    cmd = [str(uv), "venv", "--quiet", "--no-project", "--python", str(base.executable)]
    if system_site_packages:
        cmd.append("--system-site-packages")
    _run_creator("uv venv", [*cmd, str(path)], base, path)


def _make_virtualenv(base: _Base, path: Path, system_site_packages: bool) -> None:
    """Create with virtualenv's Python API, seeding pip so ``python -m pip`` works."""
    try:
        from virtualenv import cli_run
    except ImportError:
        raise VenvError(
            "The virtualenv backend was asked for but virtualenv is not installed."
        ) from None
    args = [str(path), "--python", str(base.executable), "--quiet", "--no-periodic-update"]
    if system_site_packages:
        args.append("--system-site-packages")
    seed = _virtualenv_seeds(base)
    if not seed:
        args.append("--no-seed")
    try:
        cli_run(args, setup_logging=False)
    # virtualenv raises bare RuntimeError, OSError, subprocess errors... from deep inside;
    # every one of them means the same thing to our caller.
    except Exception as exc:
        raise VenvError(
            f"virtualenv could not create {path} for {base.label}: {_tail(str(exc))}."
        ) from exc
    if not seed:
        # this virtualenv bundles no pip for so old a Python: the interpreter's own does
        cmd = [str(_env_python(path)), "-m", "ensurepip", "--default-pip"]
        _run_creator(f"{base.executable} -m ensurepip", cmd, base, path)


def _virtualenv_seeds(base: _Base) -> bool:
    """Whether the installed virtualenv bundles pip for this interpreter's Python version.

    Newer virtualenv releases drop the wheels for old Pythons (3.8 from 21.x);
    environments for those are made unseeded and get pip from ``ensurepip``.
    """
    try:
        from virtualenv.seed.wheels.embed import BUNDLE_SUPPORT
    except ImportError:  # a layout this code does not know: let virtualenv decide
        return True
    major_minor = ".".join(base.version.split(".")[:2])
    return major_minor in BUNDLE_SUPPORT


def _make_venv(base: _Base, path: Path, system_site_packages: bool) -> None:
    """Create with the interpreter's own ``venv`` module (with pip, via ensurepip)."""
    cmd = [str(base.executable), "-m", "venv", str(path)]
    if system_site_packages:
        cmd.append("--system-site-packages")
    _run_creator(f"{base.executable} -m venv", cmd, base, path)


def _run_creator(tool: str, cmd: List[str], base: _Base, path: Path) -> None:
    """Run an environment-creating command quietly; its error output goes into the error."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise VenvError(f"Cannot run {cmd[0]}: {exc.strerror or exc}.") from None
    if proc.returncode != 0:
        raise VenvError(
            f"{tool} could not create {path} for "
            f"{base.label} (exit {proc.returncode}): {_tail(proc.stderr or proc.stdout)}."
        )


_MAKERS = {"uv": _make_uv, "virtualenv": _make_virtualenv, "venv": _make_venv}


def _create(base: _Base, path: Path, backend: str, clear: bool, system_site: bool) -> VirtualEnv:
    """Make an environment at `path` or reuse the one there (see `create`)."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise VenvError(
            f"Cannot create a virtual environment at {path}: it is a file or a symlink, not a folder."
        )
    if path.exists() and not clear:
        if (path / "pyvenv.cfg").is_file():
            try:
                env = open_env(path)
            except VenvError as exc:
                log.warning("%s Recreating it.", exc)
            else:
                if _same_interpreter(env, base):
                    return env
                raise VenvError(
                    f"{path} is a virtual environment for another interpreter than "
                    f"{base.label}; pass clear=True to replace it."
                )
        elif path.is_dir() and any(path.iterdir()):
            raise VenvError(
                f"Cannot create a virtual environment in {path}: the folder is not empty."
            )
    _remove(path)
    log.info("Creating a %s environment for %s at %s", backend, base.label, path)
    _MAKERS[backend](base, path, system_site)
    env = open_env(path)
    # open_env reads the backend from pyvenv.cfg; keep the one that made it.
    return VirtualEnv(env.path, env.python, backend)


def create(
    python: PythonSpec,
    path: StrPath,
    *,
    backend: Optional[str] = None,
    clear: bool = False,
    system_site_packages: bool = False,
) -> VirtualEnv:
    """Create an environment at `path` for `python`, or reuse the one already there for it."""
    base = _resolve_python(python)
    chosen = _choose_backend(backend)
    return _create(base, Path(path).absolute(), chosen, clear, system_site_packages)


def find_active_env(start: Optional[StrPath] = None) -> Optional[Path]:
    """The environment in use: $VIRTUAL_ENV, $CONDA_PREFIX, else a .venv in `start` or above."""
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = os.environ.get(variable)
        if value and Path(value).is_dir():
            return Path(value).absolute()
    here = Path(start if start is not None else os.getcwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / ".venv" / "pyvenv.cfg").is_file():
            return folder / ".venv"
    return None


# --- the cache -------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """$MATURIN_NOX_CACHE_DIR/venvs, else $XDG_CACHE_HOME or ~/.cache, /maturin-nox/venvs."""
    return cache_root() / "venvs"


class VenvManager:
    """A cache of environments keyed by interpreter, backend and requirements."""

    def __init__(self, root: Optional[StrPath] = None) -> None:
        self.root = Path(root).absolute() if root is not None else default_cache_dir()

    def _make_root(self, folder: Optional[Path] = None) -> None:
        """Create the cache folder (or one inside it), with a readable error."""
        folder = folder or self.root
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VenvError(
                f"Cannot create the environment cache folder {folder}: {exc.strerror or exc}."
            ) from None

    def _key(
        self,
        base: _Base,
        backend: str,
        requirements: Sequence[str],
        find_links: Sequence[StrPath],
        no_index: bool,
    ) -> Tuple[str, Dict[str, Any]]:
        """The env's folder name and the description it is cached under."""
        spec: Dict[str, Any] = {
            # The file, not the name: python3 and python3.12 are one interpreter.
            "python": os.path.realpath(base.executable),
            "version": base.version,
            "implementation": base.implementation,
            "backend": backend,
            "requirements": sorted(set(requirements)),
            "find_links": [str(Path(link).absolute()) for link in find_links],
            "no_index": no_index,
        }
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        return f"{base.implementation}-{base.version}-{backend}-{digest}", spec

    def path_for(
        self,
        python: PythonSpec,
        requirements: Sequence[str] = (),
        *,
        backend: Optional[str] = None,
        find_links: Sequence[StrPath] = (),
        no_index: bool = False,
    ) -> Path:
        """Where `get` keeps the environment for these arguments."""
        base = _resolve_python(python)
        name, _ = self._key(base, _choose_backend(backend), requirements, find_links, no_index)
        return self.root / name

    def get(
        self,
        python: PythonSpec,
        requirements: Sequence[str] = (),
        *,
        backend: Optional[str] = None,
        find_links: Sequence[StrPath] = (),
        no_index: bool = False,
    ) -> VirtualEnv:
        """The cached environment for `python` with `requirements` installed, made if needed."""
        base = _resolve_python(python)
        chosen = _choose_backend(backend)
        name, spec = self._key(base, chosen, requirements, find_links, no_index)
        path = self.root / name
        self._make_root()
        with exclusive(self.root / f".{name}.lock"):
            env = self._reuse(path, spec, chosen)
            if env is not None:
                return env
            if path.exists():
                log.info("Recreating the cached environment %s", path)
                _remove(path)
            env = _create(base, path, chosen, clear=True, system_site=False)
            if requirements:
                env.install(*requirements, find_links=find_links, no_index=no_index)
            # The marker goes in last and atomically: an env without it is unfinished.
            # (Envs are built in place, not renamed: scripts carry absolute shebangs.)
            write_text_atomic(path / MARKER, json.dumps({**spec, "created": time.time()}, indent=1))
            return env

    def _reuse(self, path: Path, spec: Mapping[str, Any], backend: str) -> Optional[VirtualEnv]:
        """The env at `path` if it was finished for `spec` and still works."""
        try:
            recorded = json.loads((path / MARKER).read_text())
            env = open_env(path)
        except (OSError, ValueError, VenvError):
            return None
        if not isinstance(recorded, dict) or {k: recorded.get(k) for k in spec} != dict(spec):
            return None
        os.utime(path / MARKER)  # last use, for clean(older_than=...)
        return VirtualEnv(env.path, env.python, backend)

    @contextlib.contextmanager
    def ephemeral(
        self, python: PythonSpec, *, backend: Optional[str] = None
    ) -> Iterator[VirtualEnv]:
        """A fresh environment in a temporary folder, deleted on exit."""
        base = _resolve_python(python)
        chosen = _choose_backend(backend)
        # Under the cache root rather than /tmp: same filesystem as uv's cache, so uv can
        # hardlink instead of copying, and clean() finds what a crash left behind.
        parent = self.root / ".ephemeral"
        self._make_root(parent)
        folder = Path(tempfile.mkdtemp(prefix="env-", dir=str(parent)))
        try:
            yield _create(base, folder / "venv", chosen, clear=True, system_site=False)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def clean(self, *, older_than: Optional[float] = None) -> int:
        """Remove cached envs (those unused for `older_than` seconds if given); return count."""
        if not self.root.is_dir():
            return 0
        now = time.time()
        candidates = [(p, p / MARKER) for p in self.root.iterdir() if not p.name.startswith(".")]
        ephemeral = self.root / ".ephemeral"
        if ephemeral.is_dir():
            candidates += [(p, p) for p in ephemeral.iterdir()]
        count = 0
        for folder, stamp in candidates:
            if not folder.is_dir():
                continue
            try:
                last_used = stamp.stat().st_mtime
            except OSError:  # unfinished: its age is the folder's
                last_used = folder.stat().st_mtime
            if older_than is not None and now - last_used < older_than:
                continue
            lock = self.root / f".{folder.name}.lock"
            with exclusive(lock) if folder.parent == self.root else contextlib.nullcontext():
                _remove(folder)
            if folder.parent == self.root:
                lock.unlink()
            count += 1
        for leftover in self.root.glob(".*.trash-*"):  # from a crash during _remove
            shutil.rmtree(leftover, ignore_errors=True)
        return count
