"""Profile-guided optimization (``--pgo``), in maturin's three phases.

1. Build the library instrumented (``-Cprofile-generate=<dir>`` for every crate).
2. Install that wheel into a fresh environment of the target's interpreter and run
   ``tool.maturin.pgo-command`` there through the shell, with the environment's
   ``bin`` first on ``PATH`` and ``LLVM_PROFILE_FILE`` pointing into ``<dir>``;
   then ``llvm-profdata merge`` the ``.profraw`` files.
3. Build again with ``-Cprofile-use=<merged.profdata>``.

``llvm-profdata`` must read the profiles rustc's LLVM writes, so its LLVM major
version must be rustc's (``rustc -vV`` prints it): :func:`find_llvm_profdata`
looks for the one ``rustup component add llvm-tools`` installs, then for
``llvm-profdata-<major>`` and ``llvm-profdata`` on ``PATH``, and fails in one
sentence when only another version is there.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from .cargo import rustc_executable
from .errors import BuildError

__all__ = [
    "find_llvm_profdata",
    "llvm_major",
    "merge_profiles",
    "run_training",
    "rustc_llvm_major",
]

log = logging.getLogger("maturin_nox")

_LLVM_VERSION = re.compile(r"LLVM version:?\s*(\d+)\.")


def rustc_llvm_major() -> Optional[int]:
    """The LLVM major version rustc is built on (``rustc -vV``), or None if it does not say."""
    try:
        out = subprocess.run(
            [rustc_executable(), "-vV"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        raise BuildError("`rustc -vV` failed; is Rust installed?") from None
    found = _LLVM_VERSION.search(out)
    return int(found.group(1)) if found else None


def llvm_major(tool: Path) -> Optional[int]:
    """The LLVM major version of an ``llvm-profdata`` (``merge --version`` works in every release)."""
    try:
        proc = subprocess.run(
            [str(tool), "merge", "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = _LLVM_VERSION.search(proc.stdout + proc.stderr)
    return int(found.group(1)) if found else None


def _candidates(major: Optional[int]) -> List[Path]:
    """Where an llvm-profdata may be: rustup's llvm-tools first, then PATH."""
    from .cargo import host_triple
    from .platform_tags import rust_sysroot

    exe = "llvm-profdata.exe" if os.name == "nt" else "llvm-profdata"
    out: List[Path] = []
    sysroot = rust_sysroot()
    if sysroot is not None:
        rustup = sysroot / "lib" / "rustlib" / host_triple() / "bin" / exe
        if rustup.is_file():
            out.append(rustup)
    names = [f"llvm-profdata-{major}"] if major is not None else []
    for name in [*names, "llvm-profdata"]:
        found = shutil.which(name)
        if found and Path(found) not in out:
            out.append(Path(found))
    return out


def find_llvm_profdata() -> Path:
    """The llvm-profdata that matches rustc's LLVM; BuildError naming the fix otherwise."""
    major = rustc_llvm_major()
    candidates = _candidates(major)
    if not candidates:
        raise BuildError(
            "--pgo needs llvm-profdata, which was not found; run `rustup component add llvm-tools`."
        )
    if major is None:
        return candidates[0]
    seen: List[Tuple[Path, Optional[int]]] = []
    for tool in candidates:
        version = llvm_major(tool)
        if version == major:
            log.debug("Using %s (LLVM %s)", tool, version)
            return tool
        seen.append((tool, version))
    tool, version = seen[0]
    found = f"LLVM {version}" if version is not None else "of an unknown LLVM version"
    raise BuildError(
        f"--pgo: {tool} is {found}, but rustc uses LLVM {major}, so it cannot read rustc's "
        f"profiles; run `rustup component add llvm-tools` (or install llvm-profdata-{major})."
    )


def merge_profiles(tool: Path, profile_dir: Path) -> Path:
    """``llvm-profdata merge`` the ``.profraw`` files of ``profile_dir`` into one ``.profdata``."""
    raws = sorted(profile_dir.glob("*.profraw"))
    if not raws:
        raise BuildError(
            "The PGO training command ran but wrote no .profraw files; make sure "
            "tool.maturin.pgo-command exercises the compiled code."
        )
    merged = profile_dir / "merged.profdata"
    cmd = [str(tool), "merge", "-o", str(merged), *map(str, raws)]
    log.debug("Running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not merged.is_file():
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BuildError(
            f"`{tool.name} merge` failed (exit {proc.returncode}): "
            f"{detail[-1] if detail else 'no output'}."
        )
    log.info("✅ Merged %d PGO profile(s)", len(raws))
    return merged


def run_training(
    command: str,
    *,
    python: str,
    wheel: Path,
    requirements: Sequence[str],
    cwd: Path,
    profile_dir: Path,
) -> None:
    """Install the instrumented wheel into a fresh environment and run the training command.

    The command runs through ``sh -c`` (``cmd /C`` on Windows) in ``cwd`` with
    the environment activated, as maturin runs it.
    """
    from .venv import VenvManager

    with VenvManager().ephemeral(python) as env:
        log.info("📦 Installing the instrumented wheel into %s", env.path)
        env.install(wheels=[wheel], no_deps=True, reinstall=True)
        if requirements:
            env.install(*requirements)
        shell = ["cmd", "/C", command] if os.name == "nt" else ["sh", "-c", command]
        log.info("🏃 Running the PGO training command: %s", command)
        extra = {
            "LLVM_PROFILE_FILE": str(profile_dir / "%m_%p.profraw"),
            "UV_PYTHON": str(env.python),
        }
        proc = env.run(shell, cwd=cwd, env=extra, check=False)
        if proc.returncode != 0:
            raise BuildError(
                f"The PGO training command failed (exit {proc.returncode}): {command} "
                "(tool.maturin.pgo-command)."
            )
    log.info("✅ PGO training completed")
