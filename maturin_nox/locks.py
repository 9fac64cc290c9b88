"""Cross-process locks on small lock files (``flock``), and telling whether a lock's owner is gone.

A lock held with ``flock`` is released by the kernel when its owner dies, even
by SIGKILL, so "can I take it?" is a reliable "is its owner still running?".
On Windows, where ``fcntl`` does not exist, the locks are no-ops and every
owner counts as alive: writes stay atomic, only the sweeping of leftovers waits.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Iterator, Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["exclusive", "hold", "if_free", "owner_gone"]


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (waiting for it) for the ``with`` block."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def if_free(lock_file: Path) -> Iterator[bool]:
    """Share ``lock_file`` for the ``with`` block unless an :func:`exclusive` holder has it now.

    Yields whether it was free. Never waits; other sharers do not count. Without
    ``fcntl`` (Windows) it yields True and locks nothing.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+b") as handle:
        if fcntl is None:
            yield True
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def hold(lock_file: Path) -> IO[bytes]:
    """Take the lock now and keep it until the returned handle is closed (or the process dies)."""
    handle = open(lock_file, "a+b")
    if fcntl is not None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


def owner_gone(lock_file: Path) -> Optional[bool]:
    """Whether nobody holds ``lock_file`` any more; None when it cannot be told (no file, Windows)."""
    if fcntl is None:
        return None
    try:
        fd = os.open(lock_file, os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops a lock we took
    return True
