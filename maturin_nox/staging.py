"""Private folders inside an output folder where files are written before they are moved into place.

Wheels and sdists are written into a staging folder in the output folder (so
the final rename is atomic: same filesystem) and renamed into the output folder
only when complete. The owner holds a lock on the staging folder for as long
as it runs; every later run sweeps the staging folders whose owner is gone, so
even a process killed with SIGKILL leaves nothing that ``ls dist/`` or
``twine upload dist/*`` would see for long, and nothing half-written at all.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .errors import ConfigError
from .locks import hold, owner_gone

__all__ = ["PREFIX", "check_output_folder", "staging_dir", "sweep"]

log = logging.getLogger("maturin_nox")

PREFIX = ".maturin-nox-staging-"
_LOCK = "owner.lock"
# A staging folder whose lock file never got written (killed within microseconds of
# making it) is abandoned once it is this old.
_ORPHAN_AGE = 600.0


def check_output_folder(out_dir: Path, what: str = "-o/--out") -> None:
    """An output folder that exists must be a folder: one sentence naming it otherwise."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(
            f"The output folder {out_dir} (from {what}) is a file, not a folder; "
            "choose another output folder.",
            key="out",
        )


def sweep(out_dir: Path) -> None:
    """Remove the staging folders in ``out_dir`` whose owner process is gone."""
    try:
        entries = [p for p in out_dir.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return
    for entry in entries:
        gone = owner_gone(entry / _LOCK)
        if gone is None:  # no lock file yet, or no way to tell: only very old ones
            try:
                gone = time.time() - entry.stat().st_mtime > _ORPHAN_AGE
            except OSError:
                continue
        if gone:
            log.debug("Removing %s, left by a run that was interrupted", entry)
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """A fresh staging folder in ``out_dir``, locked while the ``with`` block runs, then removed."""
    check_output_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep(out_dir)
    path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=out_dir))
    lock = hold(path / _LOCK)
    try:
        yield path
    finally:
        while True:  # a second Ctrl-C must not leave the folder half removed
            try:
                shutil.rmtree(path, ignore_errors=True)
                break
            except KeyboardInterrupt:
                continue
        lock.close()
