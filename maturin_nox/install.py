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
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from . import faults
from .common import Source
from .errors import BuildError, VenvError
from .locks import exclusive
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


def _old_files(dist_info: Path, site: Path, prefix: Path) -> List[Path]:
    """The files an installed distribution's RECORD lists (inside the environment), with bytecode."""
    files: List[Path] = []
    for path, _, _ in _read_record(dist_info):
        target = Path(os.path.normpath(site / path))
        if prefix not in target.parents:  # never outside the environment
            continue
        files.append(target)
        if target.suffix == ".py":
            cache = target.parent / "__pycache__"
            files += sorted(cache.glob(f"{target.stem}.*.pyc")) if cache.is_dir() else []
    for entry in _listdir(dist_info):  # whatever else its .dist-info holds
        if entry.is_file() and entry not in files:
            files.append(entry)
    return files


def _listdir(folder: Path) -> List[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _prune_folders(paths: Sequence[Path], scheme: Scheme, prefix: Path) -> None:
    """Remove the folders these files left empty; the environment's own folders stay."""
    site = scheme.purelib
    keep = {site, scheme.scripts, prefix, *(prefix / d for d in ("include", "lib", "lib64", "Lib"))}
    folders = {p.parent for p in paths}
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- the install as a transaction -------------------------------------------------------
#
# The new files are written into a hidden folder in site-packages first, with a journal
# saying where each goes; only then are old files removed and new ones renamed into
# place, and RECORD last. A run killed while writing leaves the old install as it was
# (the next run drops the folder); one killed while committing is finished by the next
# run. Installs into one environment take a lock, so they happen one at a time.

_TX_PREFIX = ".maturin-nox-install-"
_JOURNAL = "journal.json"
_LOCK_NAME = ".maturin-nox-install.lock"


def _journal_write(tx: Path, data: Mapping[str, object]) -> None:
    tmp = tx / f"{_JOURNAL}.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, tx / _JOURNAL)


def _commit(tx: Path, journal: Mapping[str, object], scheme: Scheme, prefix: Path) -> None:
    """Remove what the old install had and the new one does not; move the new files in."""
    moves = journal["moves"]
    obsolete = journal["obsolete"]
    assert isinstance(moves, list) and isinstance(obsolete, list)
    for old in obsolete:
        _unlink(Path(old))
    for index, (temp, dest) in enumerate(moves):
        if index:
            faults.point("install:committing")
        source, target = tx / temp, Path(dest)
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    _prune_folders([Path(p) for p in obsolete], scheme, prefix)
    shutil.rmtree(tx, ignore_errors=True)


def _recover(scheme: Scheme, prefix: Path) -> None:
    """Finish (or undo) the installs an interrupted run left in this environment."""
    for tx in _listdir(scheme.purelib):
        if not tx.name.startswith(_TX_PREFIX) or not tx.is_dir():
            continue
        try:
            journal = json.loads((tx / _JOURNAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = {}
        if journal.get("phase") == "committing":
            log.info(f"📦 Finishing an install an interrupted run left in {scheme.purelib}")
            _commit(tx, journal, scheme, prefix)
        else:  # interrupted while writing: the old install was never touched
            shutil.rmtree(tx, ignore_errors=True)


def install_payload(
    payload: WheelPayload, scheme: Scheme, *, direct_url: Optional[str] = None
) -> Tuple[bool, Path]:
    """Install (replacing any installed version); ``(False, dist-info)`` if already installed as is."""
    site = scheme.purelib
    planned = _plan(payload, scheme, direct_url)
    rows = _record_rows(planned, site)
    dist_info = site / payload.dist_info_dir
    prefix = Path(os.path.commonpath([site, scheme.scripts, scheme.data]))
    with exclusive(site / _LOCK_NAME):
        _recover(scheme, prefix)
        existing = installed_dist_infos(site, payload.name)
        if existing == [dist_info] and _same_install(dist_info, rows, site):
            return False, dist_info
        record = f"{payload.dist_info_dir}/RECORD"
        lines = [",".join(_csv(v) for v in row) for row in sorted(rows)] + [f"{_csv(record)},,"]
        files = {**planned, dist_info / "RECORD": (("\n".join(lines) + "\n").encode(), False)}
        new = set(files)
        obsolete = [p for old in existing for p in _old_files(old, site, prefix) if p not in new]
        tx = Path(tempfile.mkdtemp(prefix=_TX_PREFIX, dir=site))
        moves: List[Tuple[str, str]] = []
        _journal_write(tx, {"phase": "writing"})
        mode = _umask()
        for index, (dest, (data, executable)) in enumerate(files.items()):
            if index == 1:
                faults.point("install:writing")
            temp = f"{index}.tmp"
            (tx / temp).write_bytes(data)
            os.chmod(tx / temp, (0o755 if executable else 0o644) & ~mode)
            moves.append((temp, str(dest)))
        # RECORD goes in last, so a reader never sees a RECORD without its files
        journal = {"phase": "committing", "moves": moves, "obsolete": [str(p) for p in obsolete]}
        _journal_write(tx, journal)
        for old in existing:
            log.debug("Replacing the previous install %s", old)
        _commit(tx, journal, scheme, prefix)
    return True, dist_info


def _csv(value: str) -> str:
    return f'"{value}"' if ("," in value or '"' in value) else value
