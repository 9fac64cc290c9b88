"""Installing a wheel payload into an environment: its files written into the scheme, with RECORD.

What pip would do with the wheel, minus the zip and the subprocess: the
previous install is removed by its RECORD first, console scripts are written
from ``entry_points.txt``, and when exactly the same files are already
installed nothing is written at all. Every file is written beside its place
and renamed into it, so a running process keeps the file it has open.
"""

from __future__ import annotations

import configparser
import csv
import json
import logging
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Set, Tuple

from .common import Source
from .errors import BuildError, VenvError
from .wheel import WheelWriter, escape_name, record_hash

if TYPE_CHECKING:
    from .interpreters import Interpreter
    from .payload import WheelPayload
    from .venv import VirtualEnv

__all__ = ["INSTALLER", "Scheme", "env_scheme", "install_payload", "installed_dist_infos"]

log = logging.getLogger("maturin_nox")

INSTALLER = "maturin-nox"


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


def _entry_scripts(payload: WheelPayload, python: Path) -> Dict[str, bytes]:
    """console_scripts and gui_scripts from entry_points.txt, by script name."""
    text = payload.dist_info.get("entry_points.txt")
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


def _read_source(source: Source) -> Tuple[bytes, bool]:
    """A payload file's bytes, and whether it is executable on disk."""
    if isinstance(source, bytes):
        return source, False
    try:
        return source.read_bytes(), bool(source.stat().st_mode & stat.S_IXUSR)
    except OSError as exc:
        raise BuildError(f"Cannot read {source} to install it: {exc.strerror}.") from None


def _plan(
    payload: WheelPayload, scheme: Scheme, direct_url: Optional[str]
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
    for arcname, source in payload.files.items():
        data, executable = _read_source(source)
        executable = executable or arcname in payload.executables
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
    dist_info = scheme.purelib / payload.dist_info_dir
    for relpath, data in payload.dist_info.items():
        out[dist_info / relpath] = (data, False)
    wheel_text = WheelWriter(".", payload.name, payload.version, payload.tags).wheel_file()
    out[dist_info / "WHEEL"] = (wheel_text.encode(), False)
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


def installed_dist_infos(site: Path, name: str) -> List[Path]:
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
    payload: WheelPayload, scheme: Scheme, *, direct_url: Optional[str] = None
) -> Tuple[bool, Path]:
    """Install (replacing any installed version); ``(False, dist-info)`` if already installed as is."""
    site = scheme.purelib
    planned = _plan(payload, scheme, direct_url)
    rows = _record_rows(planned, site)
    dist_info = site / payload.dist_info_dir
    existing = installed_dist_infos(site, payload.name)
    if existing == [dist_info] and _same_install(dist_info, rows, site):
        return False, dist_info
    prefix = Path(os.path.commonpath([site, scheme.scripts, scheme.data]))
    for old in existing:
        log.debug("Removing the previous install %s", old)
        _remove_dist(old, scheme, prefix)
    for dest, (data, executable) in planned.items():
        _write(dest, data, executable)
    record = f"{payload.dist_info_dir}/RECORD"
    lines = [",".join(_csv(v) for v in row) for row in sorted(rows)] + [f"{_csv(record)},,"]
    _write(dist_info / "RECORD", ("\n".join(lines) + "\n").encode("utf-8"), False)
    return True, dist_info


def _csv(value: str) -> str:
    return f'"{value}"' if ("," in value or '"' in value) else value
