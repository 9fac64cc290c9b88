"""Adding rustc flags for every crate of a build (PGO) without losing the user's own.

Cargo takes its ``RUSTFLAGS`` from exactly one place: ``CARGO_ENCODED_RUSTFLAGS``,
else ``RUSTFLAGS``, else the ``target.<triple>.rustflags`` (and ``target.<cfg>``)
config entries, else ``build.rustflags``. :func:`with_rustflags` appends to
whichever source is in effect, so the flags the user set still apply: the
environment variable when one is set, else a ``--config`` entry that cargo
joins with the config files' array of the same key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Sequence, Tuple

from .toml import load_toml

__all__ = ["with_rustflags"]


def _config_files(start: Path, env: Mapping[str, str]) -> Iterator[Path]:
    """Cargo's config files for a build run in ``start``: the folder and its parents, then CARGO_HOME."""
    for folder in [start, *start.parents]:
        for name in ("config.toml", "config"):
            path = folder / ".cargo" / name
            if path.is_file():
                yield path
                break
    home = Path(env.get("CARGO_HOME") or Path.home() / ".cargo")
    for name in ("config.toml", "config"):
        if (home / name).is_file():
            yield home / name
            break


def _has_target_rustflags(start: Path, env: Mapping[str, str], cli_config: Sequence[str]) -> bool:
    """Whether any ``target.*.rustflags`` is configured (which makes cargo ignore build.rustflags)."""
    if any(k.startswith("CARGO_TARGET_") and k.endswith("_RUSTFLAGS") for k in env):
        return True
    if any(c.lstrip().startswith("target.") and "rustflags" in c for c in cli_config):
        return True
    for path in _config_files(start, env):
        try:
            targets = load_toml(path).get("target", {})
        except Exception:  # an unreadable config is cargo's to report
            continue
        if isinstance(targets, dict) and any(
            isinstance(t, dict) and "rustflags" in t for t in targets.values()
        ):
            return True
    return False


def with_rustflags(
    flags: Sequence[str],
    *,
    triple: str,
    cwd: Path,
    env: Mapping[str, str],
    cli_config: Sequence[str] = (),
) -> Tuple[List[str], Dict[str, str]]:
    """Cargo arguments and environment changes that add ``flags`` to every crate's rustc call.

    ``triple`` is the triple being built for (the host's without ``--target``);
    ``cli_config`` are the ``--config`` values the command already passes.
    """
    if not flags:
        return [], {}
    encoded = env.get("CARGO_ENCODED_RUSTFLAGS")
    if encoded is not None or env.get("RUSTFLAGS") is not None:
        # the encoded form takes paths with spaces, and cargo prefers it over RUSTFLAGS
        have = encoded.split("\x1f") if encoded else (env.get("RUSTFLAGS") or "").split()
        return [], {"CARGO_ENCODED_RUSTFLAGS": "\x1f".join([f for f in have if f] + list(flags))}
    key = (
        f"target.{triple}.rustflags"
        if _has_target_rustflags(cwd, env, cli_config)
        else "build.rustflags"
    )
    value = "[" + ", ".join(json.dumps(f) for f in flags) + "]"
    return ["--config", f"{key}={value}"], {}
