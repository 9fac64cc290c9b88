"""Rebuild on import: an editable install that picks up Rust edits by itself.

Every editable install (``maturin-nox develop``, ``pip install -e .`` or
``uv pip install -e .`` through the backend, the nox ``develop`` session, tox's
``package = editable``) gets a small finder module, started by a ``.pth`` line.
When Python imports the project's top-level module, the finder compares the
inputs of the last build with the files on disk and, if one changed, rebuilds
through the engine for the running interpreter before the import goes on.

Freshness comes from what the last build read, never from scanning the tree:
cargo's dep-info file of the library (every source of the crate and its path
dependencies, and what build scripts asked to be watched), the manifests, the
lock file, the cargo configuration files, the build-relevant part of
``pyproject.toml`` (``[tool.maturin]``: its metadata never triggers a build)
and the environment variables that change the compiled code. A file that does
not reach the library (a ``.pyi``, ``.coverage``, ``README.md``) is never
looked at.

The finder itself (:data:`FINDER`) is plain Python with no dependency on
maturin-nox, so it costs almost nothing when the project is fresh; only a
rebuild runs the engine, in a subprocess, holding a lock so that several
processes importing at once cause one build. ``MATURIN_NOX_REBUILD`` is ``1``
(the default), ``0`` (never rebuild: import what is there), ``verbose`` (say
why, and show cargo's output) or ``lenient`` (when the rebuild fails, import
the previous library with a warning instead of raising ImportError).
``[tool.maturin-nox] rebuild-on-import = false`` installs no finder at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .cargo import CargoOutput
from .errors import ConfigError
from .freshness import dep_info_inputs, file_state, project_inputs, states
from .layout import extension_arcname
from .options import BuildOptions
from .plan import BuildTarget, Plan
from .project import Project
from .wheel import escape_name

__all__ = ["ENV_VAR", "FINDER", "Runner", "enabled", "engine_copy", "finder_files", "main"]

log = logging.getLogger("maturin_nox")

ENV_VAR = "MATURIN_NOX_REBUILD"
# Environment variables that change what cargo compiles (the others cannot).
_WATCHED_ENV = ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTC", "RUSTC_WRAPPER")
# What a rebuild does not repeat from the install's options: where it installs and prints.
_NOT_REPEATED = frozenset(
    {"interpreters", "find_interpreter", "out_dir", "cwd", "quiet", "verbose", "editable"}
)


@dataclass(frozen=True)
class Runner:
    """What runs a rebuild later: an interpreter that can import the engine (from ``engine`` if set)."""

    python: str
    engine: Optional[str] = None

    @classmethod
    def this_process(cls) -> Runner:
        """The interpreter running now, which imports maturin-nox where it is installed."""
        return cls(sys.executable)

    @classmethod
    def copied(cls) -> Runner:
        """For a build environment that will be gone: the base interpreter and a copy of the engine."""
        return cls(os.path.realpath(sys.executable), str(engine_copy()))


def enabled(project: Project) -> bool:
    """Whether the project wants rebuild on import ([tool.maturin-nox] rebuild-on-import)."""
    tool = (project.pyproject or {}).get("tool", {})
    table = tool.get("maturin-nox", {}) if isinstance(tool, Mapping) else {}
    if not isinstance(table, Mapping):
        return True
    value = table.get("rebuild-on-import", True)
    if not isinstance(value, bool):
        raise ConfigError(
            f"{project.pyproject_path}: tool.maturin-nox.rebuild-on-import must be true or "
            f"false, not {value!r}.",
            project.pyproject_path,
            "tool.maturin-nox.rebuild-on-import",
        )
    return value


def _inputs(project: Project, library: Path) -> List[Path]:
    """What the build read that an edit could change (cargo's dep-info, manifests, configuration)."""
    sources = dep_info_inputs(library) or []
    return list(
        dict.fromkeys([*sources, *project_inputs(project.cargo_metadata, project.manifest_path)])
    )


def _tool_maturin_digest(project: Project) -> str:
    table = (project.pyproject or {}).get("tool", {}).get("maturin", {})
    return hashlib.sha256(json.dumps(table, sort_keys=True, default=str).encode()).hexdigest()


def _options(plan: Plan) -> Dict[str, Any]:
    """The options a rebuild repeats, as JSON (the interpreter is whichever imports)."""
    import dataclasses

    options = plan.options or BuildOptions()
    project = plan.project
    values: Dict[str, Any] = {}
    for f in dataclasses.fields(BuildOptions):
        if f.name in _NOT_REPEATED:
            continue
        value = getattr(options, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [str(v) for v in value]
        values[f.name] = value
    values["manifest_path"] = str(project.manifest_path)
    values["target_dir"] = str(plan.user_target_dir) if plan.user_target_dir else None
    return values


def _extension_modules(project: Project, target: BuildTarget) -> List[str]:
    """The dotted names under which the library is loaded (for the cannot-reload warning)."""
    if target.ext_suffix is None:  # cffi/uniffi glue loads it
        return [project.module_name.split(".")[0]]
    arcname = extension_arcname(project, target.ext_suffix)
    return [arcname[: -len(target.ext_suffix)].replace("/", ".")]


def finder_files(
    plan: Plan, target: BuildTarget, output: CargoOutput, runner: Runner
) -> Dict[str, bytes]:
    """The finder module, its configuration and the ``.pth`` line, by archive name."""
    project = plan.project
    library = output.cdylib()
    if library is None or not enabled(project):  # binaries import nothing
        return {}
    name = f"_maturin_nox_rebuild_{escape_name(project.name)}"
    inputs = _inputs(project, library)
    config = {
        "format": 1,
        "project": project.name,
        "modules": [project.module_name.split(".")[0]],
        "inputs": states(inputs),
        "pyproject": str(project.pyproject_path) if project.pyproject_path else None,
        "pyproject_stat": file_state(project.pyproject_path) if project.pyproject_path else None,
        "tool_maturin": _tool_maturin_digest(project),
        "environment": {k: os.environ.get(k) for k in _WATCHED_ENV},
        "options": _options(plan),
        "engine": runner.engine,
        "python": runner.python,
        "cwd": str(project.root),
        "libraries": [str(library)],
        "extension_modules": _extension_modules(project, target),
    }
    return {
        f"{name}.py": FINDER.encode(),
        f"{name}.json": (json.dumps(config, indent=1, sort_keys=True) + "\n").encode(),
        f"{name}.pth": f"import {name}\n".encode(),
    }


def engine_copy() -> Path:
    """The running engine and its pure-Python requirements, copied to the cache for later rebuilds.

    An editable install made by a PEP 517 frontend runs the backend in a build
    environment that is gone afterwards; the copy (one per engine version and
    contents) lets the finder rebuild without maturin-nox in the project's env.
    """
    import packaging

    from . import __version__
    from .common import cache_root

    roots = [Path(__file__).resolve().parent, Path(packaging.__file__).resolve().parent]
    if sys.version_info < (3, 11):
        import tomli

        roots.append(Path(tomli.__file__).resolve().parent)
    digest = hashlib.sha256(__version__.encode())
    files: List[Path] = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files.append(path)
                st = path.stat()
                digest.update(f"{path.relative_to(root.parent)}|{st.st_size}".encode())
    final = cache_root() / "engines" / digest.hexdigest()[:16]
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".engine-", dir=final.parent))
    try:
        for root in roots:
            for path in files:
                if root in path.parents:
                    dest = staging / path.relative_to(root.parent)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)
        try:
            os.replace(staging, final)
        except OSError:
            if not final.is_dir():  # another process put its copy there first: fine
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m maturin_nox.rebuild CONFIG``: rebuild an editable install for this interpreter."""
    from .console import configure_logging
    from .dev_install import develop
    from .errors import MaturinNoxError

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m maturin_nox.rebuild CONFIG.json ENV_PREFIX", file=sys.stderr)
        return 2
    config = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    from .options import merge_options

    values = dict(config["options"])
    options = merge_options(
        None,
        {
            **values,
            "cwd": config["cwd"],
            "quiet": os.environ.get(ENV_VAR) != "verbose",
        },
    )
    configure_logging(verbose=0, quiet=True)
    runner = Runner(config["python"], config.get("engine"))
    try:
        develop(options, env_path=args[1], dependencies=False, runner=runner)
    except MaturinNoxError as exc:
        print(f"💥 maturin-nox failed: {exc}", file=sys.stderr)
        return 1
    return 0


# The finder, installed as _maturin_nox_rebuild_<name>.py beside its .json configuration.
# Plain Python, no maturin-nox import: it runs in the project's environment.
FINDER = '''\
"""Rebuild on import for an editable install made by maturin-nox (generated: do not edit).

MATURIN_NOX_REBUILD=0 turns it off, =verbose says why it rebuilds and shows cargo's
output, =lenient imports the previous library when a rebuild fails.
"""

import json
import os
import sys

_CONFIG = os.path.splitext(__file__)[0] + ".json"
_state = {"checked": False, "loaded": None, "warned": False}


def _read():
    with open(_CONFIG, encoding="utf-8") as handle:
        return json.load(handle)


def _stat(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _stale(config):
    """Why the last build is out of date, or None."""
    for path, seen in config["inputs"].items():
        if _stat(path) != seen:
            return path
    for key, value in config["environment"].items():
        if os.environ.get(key) != value:
            return "$" + key
    pyproject = config.get("pyproject")
    if pyproject and _stat(pyproject) != config.get("pyproject_stat"):
        if _tool_maturin(pyproject) != config["tool_maturin"]:
            return pyproject
    return None


def _tool_maturin(path):
    import hashlib

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib
        except ImportError:
            return None
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle).get("tool", {}).get("maturin", {})
    except (OSError, ValueError):
        return None
    return hashlib.sha256(json.dumps(table, sort_keys=True, default=str).encode()).hexdigest()


def _locked():
    path = _CONFIG[: -len(".json")] + ".lock"
    handle = open(path, "a+b")
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except ImportError:  # Windows: no lock, a rebuild still replaces files atomically
        pass
    return handle


def _rebuild(config, reason):
    import subprocess
    import time

    mode = os.environ.get("MATURIN_NOX_REBUILD", "1")
    env = dict(os.environ)
    if config.get("engine"):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (config["engine"], env.get("PYTHONPATH")) if p)
    env.pop("PYTHONHOME", None)
    python = config["python"] if os.path.exists(config["python"]) else sys.executable
    cmd = [python, "-m", "maturin_nox.rebuild", _CONFIG, sys.prefix]
    if mode == "verbose":
        print(f"maturin-nox: rebuilding {config['project']}: {reason} changed", file=sys.stderr)
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=None if mode == "verbose" else subprocess.PIPE
    )
    seconds = time.perf_counter() - start
    if proc.returncode == 0:
        print(f"maturin-nox: rebuilt {config['project']} in {seconds:.1f} s ({reason} changed)", file=sys.stderr)
        return
    if proc.stderr:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
    if mode == "lenient":
        print(f"maturin-nox: warning: rebuilding {config['project']} failed; importing the previous library.", file=sys.stderr)
        return
    raise ImportError(
        f"maturin-nox could not rebuild {config['project']} after {reason} changed (the errors are "
        "above); the previous library is unchanged. Fix the error, or set MATURIN_NOX_REBUILD=0 to "
        "import it as it is."
    )


def _library_changed(config):
    seen = _state["loaded"]
    return seen is not None and any(_stat(p) != s for p, s in seen.items())


def _check(fullname):
    if os.environ.get("MATURIN_NOX_REBUILD", "1") == "0":
        return
    try:
        config = _read()
    except (OSError, ValueError):
        return  # uninstalled or half-written: nothing to watch
    if _state["checked"]:
        # Another process (or this one) rebuilt after the library was loaded here.
        if not _state["warned"] and _library_changed(config) and _loaded_extension(config):
            _state["warned"] = True
            print(
                f"maturin-nox: {config['project']} was rebuilt, but this process already loaded "
                "its extension module, which cannot be reloaded: restart Python to use the new one.",
                file=sys.stderr,
            )
        return
    _state["checked"] = True
    reason = _stale(config)
    if reason is not None:
        lock = _locked()
        try:
            config = _read()  # another process may have rebuilt while we waited
            reason = _stale(config)
            if reason is not None:
                _rebuild(config, reason)
                config = _read()
        finally:
            lock.close()
    _state["loaded"] = {p: _stat(p) for p in config.get("libraries", [])}


def _loaded_extension(config):
    return any(name in sys.modules for name in config.get("extension_modules", []))


class _RebuildFinder:
    """Checks the project before its first import; finds nothing itself."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname.partition(".")[0] in _MODULES:
            _check(fullname)
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


try:
    _MODULES = frozenset(_read()["modules"])
except (OSError, ValueError, KeyError):
    _MODULES = frozenset()
if _MODULES and not any(getattr(f, "__name__", "") == "_RebuildFinder" and getattr(f, "_config", None) == _CONFIG for f in sys.meta_path):
    _RebuildFinder._config = _CONFIG
    sys.meta_path.insert(0, _RebuildFinder)
'''


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
