"""Whether a build's outputs are still what its inputs would make, from cargo's own dep-info.

One check serves the builder (a cargo run is skipped when nothing it read
changed since it last succeeded) and the rebuild-on-import finder (which
carries the same data as JSON and repeats the comparison without importing
maturin-nox). What a build read comes from cargo's dep-info file beside each
artifact (every source of the crate and its path dependencies, and what build
scripts asked to watch), plus the manifests, the lock file, the cargo and
toolchain configuration files; the tree is never scanned.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

__all__ = [
    "FileState",
    "cargo_configs",
    "changed",
    "dep_info_inputs",
    "env_digest",
    "file_state",
    "project_inputs",
    "states",
]

FileState = Optional[List[int]]

# Shell and runner bookkeeping that never changes what cargo compiles.
_VOLATILE = frozenset(
    """PWD OLDPWD SHLVL _ TERM COLUMNS LINES PS1 PS2 PROMPT_COMMAND SSH_AUTH_SOCK SSH_CLIENT
    SSH_CONNECTION SSH_TTY DISPLAY WINDOWID TERM_PROGRAM TERM_PROGRAM_VERSION TERM_SESSION_ID
    PYTEST_CURRENT_TEST PYTEST_XDIST_WORKER NOX_CURRENT_SESSION TOX_ENV_NAME TOX_ENV_DIR
    TOX_WORK_DIR TOX_PACKAGE MATURIN_NOX_FAULT MATURIN_NOX_REBUILD""".split()
)


def file_state(path: Path) -> FileState:
    """A file's modification time and size, or None when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def states(paths: Iterable[Path]) -> Dict[str, FileState]:
    """The state of each path, by its string."""
    return {str(p): file_state(p) for p in paths}


def changed(recorded: Mapping[str, Any]) -> Optional[str]:
    """The first recorded path whose state differs now, or None when all are the same."""
    for path, seen in recorded.items():
        if file_state(Path(path)) != seen:
            return path
    return None


def env_digest(env: Mapping[str, str]) -> str:
    """A digest of the environment a build ran in, without shell bookkeeping."""
    kept = sorted((k, v) for k, v in env.items() if k not in _VOLATILE)
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()


def _cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def dep_info_inputs(artifact: Path) -> Optional[List[Path]]:
    """The local files cargo's dep-info says ``artifact`` was built from; None without a dep-info.

    Cargo writes ``<artifact stem>.d`` beside each artifact it uplifts
    (``libname.so`` -> ``libname.d``, ``name`` -> ``name.d``); sources from the
    registry and git checkouts are left out (they never change in place).
    """
    text: Optional[str] = None
    for candidate in (
        artifact.parent / f"{artifact.stem}.d",
        artifact.with_name(artifact.name + ".d"),
    ):
        try:
            text = candidate.read_text(encoding="utf-8", errors="replace")
            break
        except OSError:
            continue
    if text is None:
        return None
    home = _cargo_home()
    skip = (home / "registry", home / "git")
    found: Dict[Path, None] = {}
    for line in text.splitlines():
        _, sep, deps = line.partition(": ")
        if not sep:
            continue
        # make syntax: a space inside a path is escaped with a backslash
        for item in deps.replace("\\ ", "\0").split():
            path = Path(item.replace("\0", " "))
            if not any(root in path.parents for root in skip):
                found[path] = None
    return list(found)


def cargo_configs(start: Path) -> List[Path]:
    """The cargo configuration files a build in ``start`` reads, existing or not, nearest first."""
    out = []
    for folder in (start, *start.parents):
        out += [folder / ".cargo" / "config.toml", folder / ".cargo" / "config"]
    home = _cargo_home()
    return [*out, home / "config.toml", home / "config"]


def project_inputs(cargo_metadata: Mapping[str, Any], manifest_path: Path) -> List[Path]:
    """What every build of the project reads besides its sources: manifests, lock, configuration.

    The manifests of the workspace's own crates and path dependencies, the lock
    file, the cargo configuration files that apply, and the rust-toolchain files
    that pick the compiler.
    """
    out: Dict[Path, None] = {manifest_path: None}
    for package in cargo_metadata.get("packages", []):
        if package.get("source") is None:
            out[Path(package["manifest_path"])] = None
    root = Path(cargo_metadata.get("workspace_root", manifest_path.parent))
    out[root / "Cargo.toml"] = None
    out[root / "Cargo.lock"] = None
    # missing ones too: one made later changes the build
    for path in cargo_configs(manifest_path.parent):
        out[path] = None
    for folder in (manifest_path.parent, *manifest_path.parent.parents):
        for name in ("rust-toolchain.toml", "rust-toolchain"):
            out[folder / name] = None
    rustup = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup") / "settings.toml"
    out[rustup] = None
    return list(out)
