"""``develop``: build the crate for the environment you work in and install it there.

A mixed Rust/Python project installs editable, as maturin does: a ``.pth`` file
puts the python-source folder on ``sys.path`` (Python edits are live) and the
compiled extension module is copied into the source tree next to the package.
A pure Rust project installs as a normal wheel. Either way ``direct_url.json``
marks the install editable and points at the project.

The files are written straight into the environment with their RECORD (what
pip would do with the wheel, minus the zip and the subprocess): the previous
install is removed by its RECORD first, and when the same build is already
installed nothing is written at all. pip or uv only runs when a dependency is
missing. The same in-memory :class:`Payload` becomes the PEP 660 wheel of
``build_editable``.
"""

from __future__ import annotations

import configparser
import dataclasses
import email.parser
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import layout
from .builder import BuildOptions, build_target, choose_interpreters, compile_target, open_project
from .errors import BuildError, VenvError
from .interpreters import Interpreter, probe
from .plan import BuildTarget, plan_targets, platform_tag
from .project import Project
from .venv import VirtualEnv, find_active_env, find_uv, open_env
from .wheel import WheelWriter, dist_info_name, escape_name, read_wheel, record_hash

__all__ = [
    "DevelopResult",
    "Payload",
    "build_editable_wheel",
    "build_payload",
    "develop",
    "develop_profile",
    "dist_info_files",
    "install_payload",
]

log = logging.getLogger("maturin_nox")

NO_ENV = (
    "No virtual environment found: activate one, set VIRTUAL_ENV, "
    "or create one with `python3 -m venv .venv`."
)
INSTALLER = "maturin-nox"
# Bindings whose extension module this module lays out itself; the others go
# through build_target and are installed from the wheel it writes.
_NATIVE = ("pyo3", "pyo3-ffi", "rust-cpython")


# --- the payload: a wheel's files in memory -----------------------------------------------


@dataclass(frozen=True)
class Payload:
    """A wheel's content before it is zipped or installed: bytes by archive name."""

    name: str
    version: str
    tags: Tuple[str, ...]
    files: Mapping[str, bytes]
    executables: FrozenSet[str] = frozenset()
    editable: bool = False  # a .pth serves the sources; build outputs were put beside them
    extension: Optional[Path] = None  # the compiled module placed in the source tree, if any

    @property
    def dist_info(self) -> str:
        """The ``{name}-{version}.dist-info`` folder name."""
        return dist_info_name(self.name, self.version)

    @property
    def data_dir(self) -> str:
        """The ``{name}-{version}.data`` folder name."""
        return f"{escape_name(self.name)}-{self.version}.data"

    def wheel_text(self) -> str:
        """The WHEEL file for these tags."""
        return WheelWriter(".", self.name, self.version, list(self.tags)).wheel_file()

    def write_wheel(self, out_dir: Path) -> Path:
        """Zip the payload into a wheel in ``out_dir`` (atomically) and return its path."""
        writer = WheelWriter(out_dir, self.name, self.version, list(self.tags))
        skip = {f"{self.dist_info}/WHEEL", f"{self.dist_info}/RECORD"}
        for arcname in sorted(self.files):
            if arcname not in skip:
                writer.add_bytes(
                    arcname, self.files[arcname], executable=arcname in self.executables
                )
        return writer.finish()


def dist_info_files(project: Project) -> Dict[str, bytes]:
    """METADATA, entry_points.txt, licenses and SBOMs, by archive name (as build writes them)."""
    from .builder import dist_info_files as _builder_dist_info  # one definition of .dist-info

    dist_info = dist_info_name(project.name, project.version)
    return {f"{dist_info}/{rel}": data for rel, data in _builder_dist_info(project).items()}


def _cdylib(project: Project, filenames: Sequence[Path]) -> Path:
    for filename in filenames:
        if filename.suffix in (".so", ".dylib", ".dll", ".pyd"):
            return filename
    raise BuildError(
        f"cargo produced no cdylib for {project.crate_name}; check [lib] crate-type in {project.manifest_path}."
    )


def _same_file(dest: Path, source: Path) -> bool:
    try:
        have, new = dest.stat(), source.stat()
    except OSError:
        return False
    return have.st_size == new.st_size and have.st_mtime_ns == new.st_mtime_ns


def _same_bytes(dest: Path, data: bytes) -> bool:
    try:
        return dest.stat().st_size == len(data) and dest.read_bytes() == data
    except OSError:
        return False


def _place(dest: Path, source: Union[Path, bytes]) -> bool:
    """Put a build output into the source tree unless the same one is already there."""
    if _same_file(dest, source) if isinstance(source, Path) else _same_bytes(dest, source):
        return False
    # Write beside and rename: a Python process that has the old module mapped keeps
    # its inode instead of crashing on a file rewritten under it.
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.maturin-nox.tmp")
    if isinstance(source, Path):
        shutil.copy2(source, tmp)  # keeps the mtime, which the next run compares
    else:
        tmp.write_bytes(source)
    os.replace(tmp, dest)
    log.info(f"📦 Copied {dest.name} into the source tree at {dest.parent}")
    return True


def _hint_gitignore(project: Project, placed: Sequence[Path]) -> None:
    """Build outputs in the source tree should not be committed: say so once."""
    ignored = layout.git_ignored(project.root, placed)
    for path in placed:
        if path not in ignored:
            log.info(
                f"💡 Add {path.name} to .gitignore (e.g. a `*.so` line): it is a build output."
            )


def _pth(project: Project) -> Dict[str, bytes]:
    """The .pth file that puts the python-source folder on sys.path, as maturin names it."""
    return {f"{escape_name(project.name)}.pth": str(project.python_source.resolve()).encode()}


def _wheel_payload(project: Project, target: BuildTarget, options: BuildOptions) -> Payload:
    """cffi, bin, uniffi: the wheel build lays out, read back (no audit for a local install)."""
    with tempfile.TemporaryDirectory(prefix="maturin-nox-develop-") as tmp:
        built = build_target(project, target, options.replace(compatibility="linux"), Path(tmp))
        contents = read_wheel(built.path)
    files = {a: d for a, d in contents.files.items() if a != f"{contents.dist_info}/RECORD"}
    return Payload(
        project.name,
        project.version,
        tuple(contents.wheel_tags()),
        files,
        frozenset(contents.executables),
    )


def _editable_from_wheel(project: Project, payload: Payload) -> Payload:
    """Make a mixed project's wheel editable: sources stay live, generated modules go beside them."""
    top = project.module_name.split(".")[0] + "/"
    sources = set(layout.python_files(project))
    kept: Dict[str, bytes] = {}
    placed: List[Path] = []
    extension: Optional[Path] = None
    for arcname, data in payload.files.items():
        if arcname.startswith(top):
            # generated glue (cffi, uniffi) must sit beside the sources; the sources
            # themselves come back unchanged and are left alone (_place compares), while
            # glue an earlier develop left there is rewritten when it changed
            dest = project.python_source / arcname
            if _place(dest, data):
                placed.append(dest)
            if dest.suffix in (".so", ".pyd", ".dylib", ".dll"):
                extension = dest
            continue
        if arcname in sources:
            continue  # served from the source tree through the .pth
        kept[arcname] = data
    _hint_gitignore(project, placed)
    kept.update(_pth(project))
    return dataclasses.replace(payload, files=kept, editable=True, extension=extension)


def build_payload(
    project: Project, target: BuildTarget, options: BuildOptions, *, editable: bool
) -> Payload:
    """Compile the target and collect its wheel's files; editable mixed projects get a .pth."""
    if project.bindings.kind not in _NATIVE:
        payload = _wheel_payload(project, target, options)
        return _editable_from_wheel(project, payload) if editable and project.mixed else payload
    tags = (target.tag(platform_tag(target.interpreter)),)
    artifacts = compile_target(project, target, options)
    cdylib = _cdylib(
        project, [f for a in artifacts if "cdylib" in a.crate_types for f in a.filenames]
    )
    assert target.ext_suffix is not None  # native bindings always have one
    ext = layout.extension_arcname(project, target.ext_suffix)
    sources: Dict[str, layout.Source] = {}
    placed: Optional[Path] = None
    if editable and project.mixed:
        placed = project.python_source / ext
        if _place(placed, cdylib):
            _hint_gitignore(project, [placed])
        sources.update(_pth(project))
    else:
        sources[ext] = cdylib
        module = project.module_name
        if not project.mixed and "." not in module:
            sources[f"{module}/__init__.py"] = layout.pure_init(module)
        sources.update(layout.stub_files(project))
        sources.update(layout.python_files(project, ext_arcname=ext))
        sources.update(layout.include_files(project, "wheel"))
    if options.generate_stubs:
        from . import stubs

        if placed is not None:  # editable: beside the sources, as maturin writes them
            stubs.write_beside_sources(project, target, cdylib)
        else:
            sources.update(stubs.introspection_stubs(project, target, sources))
    data_dir = f"{escape_name(project.name)}-{project.version}.data"
    sources.update(layout.data_files(project, data_dir))
    files = {a: (s if isinstance(s, bytes) else s.read_bytes()) for a, s in sources.items()}
    files.update(dist_info_files(project))
    executables = frozenset(a for a in files if a.startswith(f"{data_dir}/scripts/"))
    return Payload(
        project.name, project.version, tags, files, executables, placed is not None, placed
    )


def develop_profile(project: Project, options: BuildOptions, *, default: str = "dev") -> str:
    """The cargo profile of an editable build: --profile, -r, editable-profile, profile, default."""
    if options.profile:
        return options.profile
    if options.release:
        return "release"
    return project.config.editable_profile or project.config.profile or default


def _single_target(project: Project, options: BuildOptions) -> BuildTarget:
    interps = choose_interpreters(project, options)
    targets = plan_targets(project, interps)
    if len(targets) != 1:
        raise BuildError(
            f"An editable install is for one interpreter, but {len(targets)} were asked for; "
            "pass a single -i/--interpreter."
        )
    return targets[0]


def build_editable_wheel(options: BuildOptions, out_dir: Path) -> Path:
    """Build the PEP 660 editable wheel (one interpreter) into ``out_dir``."""
    project = open_project(options)
    options = options.replace(profile=develop_profile(project, options, default="release"))
    target = _single_target(project, options)
    payload = build_payload(project, target, options, editable=True)
    path = payload.write_wheel(out_dir)
    log.info(f"📦 Built editable wheel to {path}")
    return path


# --- where an environment keeps things -----------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """The install folders of one environment (the wheel spec's scheme keys)."""

    purelib: Path
    scripts: Path
    data: Path
    headers: Path
    python: Path


def env_scheme(env: VirtualEnv, interp: Interpreter, name: str) -> Scheme:
    """The environment's folders, from its layout when it is the usual one, else from sysconfig."""
    version = f"{interp.major}.{interp.minor}"
    tail = "t" if interp.gil_disabled else ""
    candidates = (
        [env.path / "Lib" / "site-packages"]
        if os.name == "nt"
        else [
            env.path / "lib" / f"python{version}{tail}" / "site-packages",
            env.path / "lib" / f"pypy{version}" / "site-packages",
        ]
    )
    purelib = next((c for c in candidates if c.is_dir()), None)
    data = env.path
    if purelib is None:  # an unusual layout: ask the interpreter (one extra process)
        code = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
        proc = subprocess.run([str(env.python), "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            raise VenvError(
                f"Cannot ask {env.python} for its install folders: {proc.stderr.strip()}"
            )
        paths = json.loads(proc.stdout)
        purelib, data = Path(paths["purelib"]), Path(paths["data"])
    headers = data / "include" / "site" / f"python{version}{tail}" / name
    return Scheme(purelib, env.bin_dir, data, headers, env.python)


# --- installing a payload ----------------------------------------------------------------


def _script(python: Path, module: str, attr: str) -> bytes:
    """A console script that runs ``module:attr``, as pip writes it on POSIX."""
    head = attr.split(".")[0]
    shebang = f"#!{python}"
    if " " in str(python) or len(shebang) > 127:
        # The kernel cannot take this shebang: let sh exec the interpreter instead.
        shebang = f"#!/bin/sh\n'''exec' '{python}' \"$0\" \"$@\"\n' '''"
    return (
        f"{shebang}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {head}\n"
        'if __name__ == "__main__":\n'
        '    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n'
        f"    sys.exit({attr}())\n"
    ).encode()


def _entry_scripts(payload: Payload, python: Path) -> Dict[str, bytes]:
    """console_scripts and gui_scripts from entry_points.txt, by script name."""
    text = payload.files.get(f"{payload.dist_info}/entry_points.txt")
    if not text:
        return {}
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
    parser.read_string(text.decode("utf-8"))
    out: Dict[str, bytes] = {}
    for group in ("console_scripts", "gui_scripts"):
        if parser.has_section(group):
            for name, value in parser.items(group):
                module, _, attr = value.partition(":")
                attr = attr.split("[")[0].strip() or "main"
                out[name] = _script(python, module.strip(), attr)
    return out


def _rewrite_shebang(data: bytes, python: Path) -> bytes:
    """``#!python`` in a wheel's scripts means the installing interpreter."""
    if data.startswith(b"#!python"):
        first, _, rest = data.partition(b"\n")
        return f"#!{python}".encode() + first[len(b"#!python") :].lstrip(b"w") + b"\n" + rest
    return data


def _plan(
    payload: Payload, scheme: Scheme, direct_url: Optional[str]
) -> Dict[Path, Tuple[bytes, bool]]:
    """Every file to write: destination -> (content, executable)."""
    data_prefix = payload.data_dir + "/"
    homes = {
        "purelib": scheme.purelib,
        "platlib": scheme.purelib,
        "scripts": scheme.scripts,
        "data": scheme.data,
        "headers": scheme.headers,
    }
    out: Dict[Path, Tuple[bytes, bool]] = {}
    for arcname, data in payload.files.items():
        executable = arcname in payload.executables
        if arcname.startswith(data_prefix):
            key, _, rest = arcname[len(data_prefix) :].partition("/")
            if key not in homes or not rest:
                raise BuildError(
                    f"The wheel of {payload.name} has {arcname}, outside any install scheme."
                )
            if key == "scripts":
                data, executable = _rewrite_shebang(data, scheme.python), True
            out[homes[key] / rest] = (data, executable)
        else:
            out[scheme.purelib / arcname] = (data, executable)
    for name, script in _entry_scripts(payload, scheme.python).items():
        out[scheme.scripts / name] = (script, True)
    dist_info = scheme.purelib / payload.dist_info
    if f"{payload.dist_info}/WHEEL" not in payload.files:
        out[dist_info / "WHEEL"] = (payload.wheel_text().encode(), False)
    out[dist_info / "INSTALLER"] = (f"{INSTALLER}\n".encode(), False)
    out[dist_info / "REQUESTED"] = (b"", False)
    if direct_url is not None:
        out[dist_info / "direct_url.json"] = (direct_url.encode("utf-8"), False)
    return out


def _record_rows(
    planned: Mapping[Path, Tuple[bytes, bool]], site: Path
) -> Set[Tuple[str, str, str]]:
    return {
        (_relpath(dest, site), record_hash(data), str(len(data)))
        for dest, (data, _) in planned.items()
    }


def _relpath(path: Path, site: Path) -> str:
    return os.path.relpath(path, site).replace(os.sep, "/")


def _installed_dist_infos(site: Path, name: str) -> List[Path]:
    """The .dist-info folders of every installed version of ``name``."""
    want = escape_name(name)
    found = []
    try:
        entries = list(os.scandir(site))
    except OSError:
        return []
    for entry in entries:
        if entry.name.endswith(".dist-info") and entry.is_dir():
            if escape_name(entry.name[: -len(".dist-info")].split("-")[0]) == want:
                found.append(Path(entry.path))
    return found


def _read_record(dist_info: Path) -> List[Tuple[str, str, str]]:
    import csv

    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return []
    rows = []
    for row in csv.reader(text.splitlines()):
        if row:
            cells = [*row[:3], "", ""]
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def _same_install(dist_info: Path, rows: Set[Tuple[str, str, str]], site: Path) -> bool:
    """Whether ``dist_info``'s RECORD lists exactly these files, and they are all still there."""
    record = f"{_relpath(dist_info, site)}/RECORD"
    have = {r for r in _read_record(dist_info) if r[0] != record}
    return have == rows and all((site / path).is_file() for path, _, _ in rows)


def _remove_dist(dist_info: Path, scheme: Scheme, prefix: Path) -> None:
    """Uninstall by RECORD: its files, their bytecode, then folders left empty."""
    site = scheme.purelib
    folders: Set[Path] = set()
    for path, _, _ in _read_record(dist_info):
        target = Path(os.path.normpath(site / path))
        if prefix not in target.parents:  # never outside the environment
            continue
        _unlink(target)
        folders.add(target.parent)
        if target.suffix == ".py":
            cache = target.parent / "__pycache__"
            for pyc in cache.glob(f"{target.stem}.*.pyc") if cache.is_dir() else ():
                _unlink(pyc)
            folders.add(cache)
    shutil.rmtree(dist_info, ignore_errors=True)
    # The environment's own folders stay even when empty; the ones the install made go.
    keep = {site, scheme.scripts, prefix, *(prefix / d for d in ("include", "lib", "lib64", "Lib"))}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder not in keep and prefix in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _write(dest: Path, data: bytes, executable: bool) -> None:
    """Write beside and rename into place, so a running process keeps the old file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, (0o755 if executable else 0o644) & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def install_payload(
    payload: Payload, scheme: Scheme, *, direct_url: Optional[str] = None
) -> Tuple[bool, Path]:
    """Install (replacing any installed version); ``(False, dist-info)`` if already installed as is."""
    site = scheme.purelib
    planned = _plan(payload, scheme, direct_url)
    rows = _record_rows(planned, site)
    dist_info = site / payload.dist_info
    existing = _installed_dist_infos(site, payload.name)
    if existing == [dist_info] and _same_install(dist_info, rows, site):
        return False, dist_info
    prefix = Path(os.path.commonpath([site, scheme.scripts, scheme.data]))
    for old in existing:
        log.debug("Removing the previous install %s", old)
        _remove_dist(old, scheme, prefix)
    for dest, (data, executable) in planned.items():
        _write(dest, data, executable)
    record = f"{payload.dist_info}/RECORD"
    lines = [",".join(_csv(v) for v in row) for row in sorted(rows)] + [f"{_csv(record)},,"]
    _write(dist_info / "RECORD", ("\n".join(lines) + "\n").encode("utf-8"), False)
    return True, dist_info


def _csv(value: str) -> str:
    return f'"{value}"' if ("," in value or '"' in value) else value


# --- dependencies --------------------------------------------------------------------------


def _marker_env(interp: Interpreter) -> Dict[str, str]:
    """PEP 508 marker values for the environment's interpreter (same machine as ours)."""
    from packaging.markers import default_environment

    env: Dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    full = ".".join(str(p) for p in interp.version)
    env.update(
        python_version=f"{interp.major}.{interp.minor}",
        python_full_version=full,
        implementation_name=interp.implementation,
        implementation_version=full
        if interp.implementation == "cpython"
        else env["implementation_version"],
        platform_python_implementation=interp.implementation_name,
    )
    return env


def _wanted(project: Project, interp: Interpreter, extras: Sequence[str]) -> List[str]:
    """The Requires-Dist that apply to this interpreter and these extras, markers dropped."""
    from packaging.requirements import InvalidRequirement, Requirement

    meta = email.parser.HeaderParser().parsestr(project.metadata.metadata_text)
    known = set(meta.get_all("Provides-Extra") or [])
    for extra in extras:
        if extra not in known:
            log.warning(
                f"{project.name} has no extra {extra!r} (it has: {', '.join(sorted(known)) or 'none'})."
            )
    env = _marker_env(interp)
    chosen: List[str] = []
    for line in meta.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise BuildError(
                f"Requires-Dist {line!r} of {project.name} is not a valid requirement."
            ) from None
        if req.marker is not None and not any(
            req.marker.evaluate({**env, "extra": extra}) for extra in ("", *extras)
        ):
            continue
        req.marker = None
        chosen.append(str(req))
    return chosen


def _installed_versions(site: Path) -> Dict[str, str]:
    """Canonical name -> version of everything installed in ``site``."""
    from packaging.utils import canonicalize_name

    out: Dict[str, str] = {}
    try:
        names = os.listdir(site)
    except OSError:
        return out
    for name in names:
        for suffix in (".dist-info", ".egg-info"):
            if name.endswith(suffix) and "-" in name:
                dist, version = name[: -len(suffix)].split("-")[:2]
                out[str(canonicalize_name(dist))] = version
    return out


def _unsatisfied(requirements: Sequence[str], site: Path) -> List[str]:
    """The requirements the environment does not meet at the top level."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    installed = _installed_versions(site)
    missing = []
    for text in requirements:
        req = Requirement(text)
        have = installed.get(str(canonicalize_name(req.name)))
        # Extras and URLs may pull in more than a name check can see: let the installer decide.
        if (
            have is None
            or req.extras
            or req.url
            or not req.specifier.contains(have, prereleases=True)
        ):
            missing.append(text)
    return missing


def _installer_command(env: VirtualEnv, site: Path, uv: Optional[bool]) -> List[str]:
    """``uv pip install`` or ``python -m pip install`` for the environment."""
    uv_exe = find_uv()
    has_pip = (site / "pip").is_dir()
    if uv is None:
        uv = uv_exe is not None and (env.backend == "uv" or not has_pip)
    if uv:
        if uv_exe is None:
            raise VenvError(
                "--uv was given but uv is not installed; install it with `pip install uv`."
            )
        return [str(uv_exe), "pip", "install", "--python", str(env.python)]
    if not has_pip:
        raise VenvError(
            f"{env.path} has no pip and uv is not installed: install one of them, or pass --skip-install."
        )
    return [str(env.python), "-m", "pip", "--disable-pip-version-check", "install"]


def _install_dependencies(
    env: VirtualEnv,
    site: Path,
    requirements: Sequence[str],
    uv: Optional[bool],
    pip_args: Sequence[str],
) -> Tuple[str, ...]:
    """Install what is missing; returns the requirements handed to the installer."""
    missing = _unsatisfied(requirements, site)
    if not missing:
        return ()
    cmd = _installer_command(env, site, uv) + list(pip_args) + missing
    log.info(f"📦 Installing dependencies: {', '.join(missing)}")
    proc = subprocess.run(cmd, env=env.environ(), stdout=sys.stderr)
    if proc.returncode != 0:
        raise VenvError(
            f"`{' '.join(cmd[:3])} install` of the dependencies failed in {env.path} "
            f"(exit {proc.returncode}); see the output above."
        )
    return tuple(missing)


# --- develop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DevelopResult:
    """What ``develop`` did."""

    env: VirtualEnv
    name: str
    version: str
    editable: bool  # mixed project: .pth to the sources, extension in the source tree
    installed: bool  # False with skip_install
    changed: bool  # False when the same build was already installed: nothing was written
    extension: Optional[Path]  # the extension module placed in the source tree, if any
    dist_info: Optional[Path]
    dependencies: Tuple[str, ...]  # requirements handed to pip/uv (empty when all were met)


def _merge(options: Optional[BuildOptions], kwargs: Dict[str, Any]) -> BuildOptions:
    opts = options or BuildOptions()
    for key in ("interpreters", "features", "cargo_args"):
        value = kwargs.get(key)
        if isinstance(value, (list, str)):
            kwargs[key] = (value,) if isinstance(value, str) else tuple(value)
    for key in ("manifest_path", "out_dir", "target_dir", "cwd"):
        if kwargs.get(key) is not None:
            kwargs[key] = Path(kwargs[key])
    return dataclasses.replace(opts, **kwargs) if kwargs else opts


def find_environment(
    env_path: Union[str, Path, None] = None, cwd: Optional[Path] = None
) -> VirtualEnv:
    """The environment to install into: ``env_path``, else the active one; VenvError if none."""
    if env_path is None:
        found = find_active_env(cwd)
        if found is None:
            raise VenvError(NO_ENV)
        env_path = found
    return open_env(env_path)


def develop(
    options: Optional[BuildOptions] = None,
    /,
    *,
    extras: Sequence[str] = (),
    skip_install: bool = False,
    uv: Optional[bool] = None,
    pip_args: Sequence[str] = (),
    env_path: Union[str, Path, None] = None,
    **kwargs: Any,
) -> DevelopResult:
    """Build the crate for the active environment and install it there (editable when mixed)."""
    opts = _merge(options, kwargs)
    env = find_environment(env_path, opts.cwd)
    project = open_project(opts)
    interp = probe(env.python)
    opts = opts.replace(
        interpreters=(str(env.python),),
        find_interpreter=False,
        profile=develop_profile(project, opts),
    )
    target = _single_target(project, opts)
    extras = [e for item in extras for e in item.replace(",", " ").split()]
    scheme = env_scheme(env, interp, project.name)
    deps: Tuple[str, ...] = ()
    if not skip_install:
        deps = _install_dependencies(
            env, scheme.purelib, _wanted(project, interp, extras), uv, pip_args
        )
    payload = build_payload(project, target, opts, editable=True)
    editable = payload.editable
    if skip_install:
        if not editable:
            log.warning(
                "--skip-install only builds the extension in place for a mixed Rust/Python project; nothing was installed."
            )
        return DevelopResult(
            env, project.name, project.version, editable, False, False, payload.extension, None, ()
        )
    direct_url = json.dumps(
        {"url": project.root.resolve().as_uri(), "dir_info": {"editable": True}}
    )
    if os.name == "nt":  # pip writes the .exe launchers console scripts need there
        changed, dist_info = _install_with_installer(payload, env, scheme, uv, direct_url), None
    else:
        changed, dist_info = install_payload(payload, scheme, direct_url=direct_url)
    if not changed:
        log.info(f"✨ {project.name}-{project.version} is up to date in {env.path}")
    return DevelopResult(
        env,
        project.name,
        project.version,
        editable,
        True,
        changed,
        payload.extension,
        dist_info,
        deps,
    )


def _install_with_installer(
    payload: Payload, env: VirtualEnv, scheme: Scheme, uv: Optional[bool], direct_url: str
) -> bool:
    """Install through pip/uv (for Windows launchers), then mark the install editable."""
    with tempfile.TemporaryDirectory(prefix="maturin-nox-develop-") as tmp:
        wheel = payload.write_wheel(Path(tmp))
        install = _installer_command(env, scheme.purelib, uv)
        cmd = [*install, "--no-deps", "--force-reinstall", str(wheel)]
        proc = subprocess.run(cmd, env=env.environ(), stdout=sys.stderr)
    if proc.returncode != 0:
        raise VenvError(f"Installing {wheel.name} into {env.path} failed (exit {proc.returncode}).")
    (scheme.purelib / payload.dist_info / "direct_url.json").write_text(
        direct_url, encoding="utf-8"
    )
    return True
