"""Python interpreter discovery and probing, as maturin does it.

Every interpreter is run once with a small script that reports what a wheel
build needs (version, implementation, abiflags, EXT_SUFFIX, SOABI, platform);
the answer is cached in memory and on disk, keyed by the executable path and
the size and mtime of the file it resolves to.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import re
import shutil
import stat
import struct
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from packaging.specifiers import SpecifierSet

from .atomic import write_text_atomic
from .errors import InterpreterError

__all__ = [
    "Interpreter",
    "InterpreterError",
    "cache_path",
    "clear_cache",
    "default",
    "find_all",
    "probe",
    "resolve",
    "select",
]

log = logging.getLogger("maturin_nox")

_SCHEMA = 1  # bump when the probe's answer changes shape: old cache entries are then ignored
_TIMEOUT = 120  # seconds; GraalPy can take a while to start
_MINORS = range(7, 15)
_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}
_PYTHON_TAGS = {"cpython": "cp", "pypy": "pp"}

# Python 2 compatible on purpose, so a Python 2 answers with its version instead of a
# SyntaxError. The cwd is dropped from sys.path so a stray json.py cannot shadow the stdlib;
# site stays on (no -S): it is site that sets sys.prefix to a venv's own directory.
_PROBE = r"""
import sys
sys.path = [p for p in sys.path if p not in ("", ".")]
import json, platform, struct, sysconfig
v = sysconfig.get_config_var
impl = getattr(sys, "implementation", None)
print(json.dumps({
    "executable": sys.executable,
    "implementation": impl.name if impl else platform.python_implementation().lower(),
    "version": list(sys.version_info[:3]),
    "abiflags": getattr(sys, "abiflags", "") or "",
    "ext_suffix": v("EXT_SUFFIX") or v("SO") or "",
    "soabi": v("SOABI"),
    "platform": sysconfig.get_platform(),
    "system": platform.system().lower(),
    "machine": platform.machine(),
    "pointer_width": struct.calcsize("P") * 8,
    "gil_disabled": v("Py_GIL_DISABLED") == 1,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "prefix": sys.prefix,
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """One probed Python interpreter: what a wheel build for it needs to know."""

    executable: Path
    implementation: str
    version: Tuple[int, int, int]
    abiflags: str
    ext_suffix: str
    soabi: Optional[str]
    platform: str
    system: str
    machine: str
    pointer_width: int
    gil_disabled: bool
    base_prefix: str
    prefix: str
    # False: not installed here; described from its version (as maturin's bundled sysconfig)
    # so pyo3 builds for it from a PYO3_CONFIG_FILE, never running it
    runnable: bool = True

    @property
    def major(self) -> int:
        """The major version, 3."""
        return self.version[0]

    @property
    def minor(self) -> int:
        """The minor version, 12 for Python 3.12."""
        return self.version[1]

    @property
    def version_str(self) -> str:
        """The version as major.minor, "3.12"."""
        return f"{self.major}.{self.minor}"

    @property
    def implementation_name(self) -> str:
        """The implementation as people write it: CPython, PyPy, GraalPy."""
        return _NAMES.get(self.implementation, self.implementation)

    @property
    def python_tag(self) -> str:
        """The wheel's python tag: cp312, pp39, graalpy311."""
        prefix = _PYTHON_TAGS.get(self.implementation, self.implementation)
        return f"{prefix}{self.major}{self.minor}"

    @property
    def abi_tag(self) -> str:
        """The wheel's ABI tag: cp312, cp313t, cp37m, pypy39_pp73, graalpy240_311_native."""
        soabi = self.soabi
        parts = self.ext_suffix.split(".")
        if not soabi and len(parts) >= 3:
            soabi = parts[1]
        bits = (soabi or "").split("-")
        if soabi and soabi.startswith("cpython") and len(bits) > 1:
            abi = "cp" + bits[1]
        elif soabi and soabi.startswith("cp"):  # Windows: cp312-win_amd64
            abi = bits[0]
        elif soabi and self.implementation == "pypy":
            abi = "-".join(bits[:2])
        elif soabi and self.implementation == "graalpy":
            abi = "-".join(bits[:3])
        else:
            flags = self.abiflags
            if self.gil_disabled and "t" not in flags:
                flags += "t"
            abi = f"{self.python_tag}{flags}"
        return re.sub(r"[.\- ]", "_", abi)

    def display(self) -> str:
        """A human description: "CPython 3.12.1 at /usr/bin/python3.12"."""
        release = ".".join(str(part) for part in self.version)
        suffix = "t" if self.gil_disabled else ""
        if not self.runnable:
            return f"{self.implementation_name} {self.major}.{self.minor}{suffix} (not installed)"
        return f"{self.implementation_name} {release}{suffix} at {self.executable}"

    def to_json(self) -> Dict[str, Any]:
        """The fields as a JSON-ready dict (the disk cache format)."""
        data = dataclasses.asdict(self)
        data["executable"] = str(self.executable)
        data["version"] = list(self.version)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Interpreter:
        """Rebuild an Interpreter from `to_json` output; raises KeyError/TypeError/ValueError."""
        fields = {
            field.name: data[field.name]
            for field in dataclasses.fields(cls)
            if field.name in data or field.default is dataclasses.MISSING
        }
        major, minor, micro = (int(part) for part in fields["version"])
        fields["version"] = (major, minor, micro)
        fields["executable"] = Path(str(fields["executable"]))
        return cls(**fields)


# --- probing and its caches ------------------------------------------------------------

_Stamp = Tuple[int, int]
_memory: Dict[str, Tuple[_Stamp, Interpreter]] = {}


def cache_path() -> Path:
    """Where probe results are kept between runs."""
    from .common import cache_root

    return cache_root() / "interpreters.json"


def clear_cache(disk: bool = False) -> None:
    """Forget the in-memory probe results (and the disk cache if asked)."""
    _memory.clear()
    if disk:
        try:
            cache_path().unlink()
        except OSError:
            pass


def _load_disk() -> Dict[str, Any]:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing or corrupt: the cache only saves time
        return {}
    if not isinstance(data, dict) or data.get("schema") != _SCHEMA:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _store(key: str, stamp: _Stamp, interp: Interpreter) -> None:
    _memory[key] = (stamp, interp)
    path = cache_path()
    entries = _load_disk()
    entries[key] = {"stamp": list(stamp), "interpreter": interp.to_json()}
    try:
        text = json.dumps({"schema": _SCHEMA, "entries": entries}, indent=1, sort_keys=True)
        write_text_atomic(path, text)
    except OSError as exc:  # a read-only cache dir must not break a build
        log.debug("Could not write the interpreter cache %s: %s", path, exc)


def _stamp(path: str) -> _Stamp:
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode) or not os.access(path, os.X_OK):
        raise InterpreterError(f"Python interpreter {path} is not an executable file.")
    return (info.st_mtime_ns, info.st_size)


def _cached(key: str, stamp: _Stamp) -> Optional[Interpreter]:
    hit = _memory.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    entry = _load_disk().get(key)
    if isinstance(entry, dict) and entry.get("stamp") == list(stamp):
        try:
            interp = Interpreter.from_json(entry["interpreter"])
        except (KeyError, TypeError, ValueError):
            return None
        _memory[key] = (stamp, interp)
        return interp
    return None


def _run_probe(path: str) -> Interpreter:
    try:
        proc = subprocess.run(
            [path, "-E", "-s", "-c", _PROBE],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_TIMEOUT,
        )
    except OSError as exc:
        raise InterpreterError(f"Could not run {path} to probe it: {exc.strerror}.") from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"{path} did not answer the probe in {_TIMEOUT} s.") from None
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        detail = lines[0].strip() if lines else "no output"
        raise InterpreterError(
            f"{path} is not a working Python interpreter (exit code {proc.returncode}: {detail})."
        )
    try:
        data = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
        reported = str(data["executable"])
        # A wrapper (pyenv shim, shell script) names the real interpreter: keep that one,
        # but keep a venv's or a symlink's own path, which resolves to the same file.
        same = not reported or os.path.realpath(reported) == os.path.realpath(path)
        data["executable"] = path if same else reported
        return Interpreter.from_json(data)
    except (IndexError, KeyError, TypeError, ValueError):
        raise InterpreterError(f"{path} did not answer the probe like a Python does.") from None


def probe(executable: Union[str, Path]) -> Interpreter:
    """Run `executable` once (or read the cache) and describe the interpreter."""
    path = os.path.abspath(os.path.expanduser(str(executable)))
    try:
        stamp = _stamp(path)
    except OSError:
        raise InterpreterError(f"Python interpreter {path} does not exist.") from None
    interp = _cached(path, stamp)
    if interp is not None:
        return interp
    interp = _run_probe(path)
    real = str(interp.executable)
    if real == path:
        _store(path, stamp, interp)
    else:  # a wrapper's answer depends on more than its own file: cache the real interpreter
        try:
            _store(real, _stamp(real), interp)
        except (OSError, InterpreterError):
            pass
    return interp


# --- where interpreters live -----------------------------------------------------------

_pyenv_roots: Dict[str, Optional[Path]] = {}


def _pyenv_root() -> Optional[Path]:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    tool = shutil.which("pyenv")
    if tool and tool not in _pyenv_roots:
        try:
            out = subprocess.run([tool, "root"], capture_output=True, text=True, timeout=30)
            _pyenv_roots[tool] = Path(out.stdout.strip()) if out.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            _pyenv_roots[tool] = None
    if tool and _pyenv_roots[tool] is not None:
        return _pyenv_roots[tool]
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def _pyenv_versions() -> List[Path]:
    """pyenv's version directories, newest first."""
    root = _pyenv_root()
    versions = root / "versions" if root else None
    if versions is None or not versions.is_dir():
        return []
    dirs = [d for d in versions.iterdir() if d.is_dir()]
    return sorted(dirs, key=lambda d: [int(n) for n in re.findall(r"\d+", d.name)], reverse=True)


def _pyenv_selected(root: Path) -> List[str]:
    """The pyenv versions in force, as pyenv picks them: PYENV_VERSION, .python-version, global."""
    if os.environ.get("PYENV_VERSION"):
        return os.environ["PYENV_VERSION"].split(":")
    folder = Path.cwd()
    for candidate in [folder, *folder.parents, root]:
        path = candidate / (".python-version" if candidate != root else "version")
        if path.is_file():
            try:
                return [v for v in path.read_text().split() if not v.startswith("#")]
            except OSError:
                return []
    return []


def _shim_target(root: Path, name: str) -> Optional[str]:
    """What a pyenv shim would run, found without spawning it (a shim costs ~0.2 s)."""
    for version in _pyenv_selected(root):
        if version == "system":
            return None  # the system interpreter comes later on PATH anyway
        target = root / "versions" / version / "bin" / name
        if target.is_file():
            return str(target)
    return None


def _executables(names: Sequence[str], *, skip_pyenv_shims: bool) -> Iterator[str]:
    """Existing files named `names` on PATH, then in pyenv's versions, in that order."""
    root = _pyenv_root()
    pyenv_dir = os.path.realpath(root) + os.sep if root and skip_pyenv_shims else None
    shims = os.path.realpath(root / "shims") if root else None
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or (pyenv_dir and os.path.realpath(directory).startswith(pyenv_dir)):
            continue
        for name in names:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                if root and shims and os.path.realpath(directory) == shims:
                    target = _shim_target(root, name)
                    if target:
                        yield target
                    continue
                yield os.path.abspath(candidate)
    for version in _pyenv_versions():
        for name in names:
            if (version / "bin" / name).is_file():
                yield str(version / "bin" / name)


def _where() -> str:
    root = _pyenv_root()
    return f"on PATH and in pyenv ({root / 'versions'})" if root else "on PATH"


# --- resolving what the user asked for -------------------------------------------------

_SPEC = re.compile(
    r"^(?:(?P<impl>python|pypy|graalpy)|(?P<short>cp|pp))?"
    r"(?P<ver>\d+(?:\.\d+){0,2})?(?P<t>t)?$"
)


def _parse_spec(spec: str) -> Tuple[List[str], Optional[str], Tuple[int, ...], Optional[bool]]:
    """Executable names to look for, and the implementation/version/free-threading wanted."""
    match = _SPEC.match(spec.lower())
    if not match or not (match["impl"] or match["short"] or match["ver"]):
        return [spec], None, (), None
    if match["short"]:
        impl: Optional[str] = "cpython" if match["short"] == "cp" else "pypy"
    else:  # a bare version or "python3.12" accepts any implementation that answers to it
        impl = None if match["impl"] in (None, "python") else match["impl"]
    text = match["ver"] or ""
    if match["short"] and text.isdigit() and len(text) > 1:  # cp312 -> 3.12
        text = f"{text[0]}.{text[1:]}"
    version = tuple(int(part) for part in text.split(".")) if text else ()
    base = {"pypy": "pypy", "graalpy": "graalpy"}.get(impl or "", "python")
    t = "t" if match["t"] else ""
    if len(version) >= 2:
        names = [f"{base}{version[0]}.{version[1]}{t}"]
    else:
        names = [f"{base}{version[0]}{t}" if version else f"{base}{t}"]
    if base == "graalpy" and "graalpy" not in names:
        names.append("graalpy")
    return names, impl, version, (bool(t) if len(version) >= 2 else None)


def _supported(interp: Interpreter) -> Interpreter:
    if interp.major < 3:
        raise InterpreterError(f"{interp.display()} is Python 2, which maturin-nox cannot target.")
    return interp


def resolve(spec: str) -> Interpreter:
    """The interpreter a `-i` value names: a path, or a name like 3.12, python3.12, pypy3.9."""
    expanded = os.path.expanduser(spec)
    if os.sep in spec or (os.altsep and os.altsep in spec) or os.path.isfile(expanded):
        return _supported(probe(expanded))
    names, impl, version, free_threaded = _parse_spec(spec)
    for candidate in _executables(names, skip_pyenv_shims=False):
        try:
            interp = probe(candidate)
        except InterpreterError as exc:  # e.g. a pyenv shim for a version not activated
            log.debug("Skipping %s: %s", candidate, exc)
            continue
        if (
            (impl is None or interp.implementation == impl)
            and interp.version[: len(version)] == version
            and (free_threaded is None or interp.gil_disabled == free_threaded)
        ):
            return _supported(interp)
    raise InterpreterError(f"No Python interpreter matches '{spec}': looked {_where()}.")


def not_installed(spec: str) -> Optional[Interpreter]:
    """A CPython that ``spec`` names by version (``3.15``, ``python3.15t``) but that is not
    installed, described from its version alone, as maturin's bundled sysconfig does on
    Linux: its extension suffix and tags follow from the version and this machine. None for
    paths, other implementations, other systems, a spec without a minor version, or a
    CPython older than 3.7.
    """
    if os.sep in spec or (os.altsep and os.altsep in spec) or not sys.platform.startswith("linux"):
        return None
    _, impl, version, free_threaded = _parse_spec(spec)
    if impl not in (None, "cpython") or len(version) < 2 or version[0] != 3 or version[1] < 7:
        return None  # (3.7 is the oldest any pyo3 builds for: older is a typo, not a target)
    major, minor = version[0], version[1]
    t = "t" if free_threaded else ""
    host_soabi = sysconfig.get_config_var("SOABI") or ""
    bits = host_soabi.split("-")
    arch = "-".join(bits[2:]) if len(bits) >= 3 else f"{platform.machine()}-linux-gnu"
    abiflags = t or ("m" if minor < 8 else "")
    return Interpreter(
        executable=Path(f"python{major}.{minor}{t}"),
        implementation="cpython",
        version=(major, minor, 0),
        abiflags=abiflags,
        ext_suffix=f".cpython-{major}{minor}{abiflags}-{arch}.so",
        soabi=f"cpython-{major}{minor}{abiflags}-{arch}",
        platform=sysconfig.get_platform(),
        system="linux",
        machine=platform.machine(),
        pointer_width=struct.calcsize("P") * 8,
        gil_disabled=bool(free_threaded),
        base_prefix="",
        prefix="",
        runnable=False,
    )


def find_all() -> List[Interpreter]:
    """Every distinct Python >= 3.7 on PATH and in pyenv, by implementation then version."""
    names = ["python3", "pypy3", "graalpy"]
    names += [f"{impl}3.{minor}" for impl in ("python", "pypy") for minor in _MINORS]
    names += ["python3.13t", "python3.14t"]
    seen: Set[str] = set()
    found: List[Interpreter] = []
    # pyenv shims only forward to pyenv versions (listed directly) or to the system python
    # (further on PATH), so they are skipped rather than spawned once per name.
    for candidate in _executables(names, skip_pyenv_shims=True):
        if os.path.realpath(candidate) in seen:
            continue
        seen.add(os.path.realpath(candidate))
        try:
            interp = probe(candidate)
        except InterpreterError as exc:
            log.debug("Skipping %s: %s", candidate, exc)
            continue
        real = os.path.realpath(interp.executable)
        if interp.version < (3, 7) or (real in seen and real != os.path.realpath(candidate)):
            continue
        seen.add(real)
        found.append(interp)
    return sorted(found, key=lambda i: (i.implementation, i.version, i.gil_disabled))


def default() -> Interpreter:
    """The active virtualenv's (or conda env's) interpreter, else `python3` on PATH."""
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = os.environ.get(variable)
        if prefix:
            exe = Path(prefix, "bin") / "python"
            if not exe.is_file():
                raise InterpreterError(f"{variable} is {prefix}, but {exe} does not exist.")
            return _supported(probe(exe))
    found = shutil.which("python3")
    if not found:
        raise InterpreterError("No interpreter was given and there is no python3 on PATH.")
    return _supported(probe(found))


def _resolve_or_describe(spec: str, not_installed_ok: bool) -> Interpreter:
    try:
        return resolve(spec)
    except InterpreterError:
        described = not_installed(spec) if not_installed_ok else None
        if described is None:
            raise
        log.info(
            f"🐍 {spec} is not installed: building for {described.display().split(' (')[0]} "
            "from its version, without running it"
        )
        return described


def _satisfies(interp: Interpreter, requires: Optional[SpecifierSet]) -> bool:
    release = ".".join(str(part) for part in interp.version)
    return requires is None or requires.contains(release, prereleases=True)


def select(
    specs: Sequence[str] = (),
    *,
    find: bool = False,
    requires_python: Optional[SpecifierSet] = None,
    requires_python_source: str = "pyproject.toml",
    not_installed_ok: bool = False,
) -> List[Interpreter]:
    """The interpreters to build for, from `-i` specs, `--find-interpreter` or the default.

    ``not_installed_ok`` (pyo3 builds): a ``-i 3.15`` that is not installed is built for
    from its version alone (:func:`not_installed`), as maturin does.
    """
    rule = f"requires-python '{requires_python}' from {requires_python_source}"
    chosen: List[Interpreter] = []
    if find:
        candidates: List[Interpreter] = []
        for spec in specs:  # with -f, -i names narrow the search; missing ones are skipped
            try:
                candidates.append(resolve(spec))
            except InterpreterError as exc:
                log.warning("%s", exc)
        for interp in candidates if specs else find_all():
            if _satisfies(interp, requires_python):
                chosen.append(interp)
            else:
                log.info("Skipping %s: it does not satisfy %s.", interp.display(), rule)
    else:
        for interp in [_resolve_or_describe(s, not_installed_ok) for s in specs] or [default()]:
            if not _satisfies(interp, requires_python):
                which = "Interpreter" if specs else "The default interpreter"
                raise InterpreterError(f"{which} {interp.display()} does not satisfy {rule}.")
            chosen.append(interp)
    unique: Dict[str, Interpreter] = {}
    for interp in chosen:
        unique.setdefault(os.path.realpath(interp.executable), interp)
    if not unique:
        raise InterpreterError(
            f"No Python interpreter satisfies {rule}: looked {_where()}."
            if requires_python is not None
            else f"No Python interpreter found: looked {_where()}."
        )
    return list(unique.values())
