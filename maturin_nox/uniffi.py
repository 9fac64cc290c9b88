"""uniffi bindings: ``uniffi-bindgen generate --library`` writes the Python
modules, an ``__init__.py`` re-exports them, the cdylib sits beside them.

As maturin: ``uniffi-bindgen`` is the crate's own ``uniffi-bindgen`` binary
(``cargo run --bin uniffi-bindgen``), else one in its workspace, else the
``uniffi-bindgen`` command on PATH or beside the running interpreter
(``pip install uniffi-bindgen``). A ``uniffi.toml`` beside Cargo.toml is
passed with ``--config`` and its ``bindings.python.cdylib_name`` names the
library file.

Unlike maturin, the binary is built in the library's own target directory and
profile (host target), so it reuses the dependencies the library build just
compiled (``uniffi`` with its ``cli`` feature is a dependency of the package
either way) instead of compiling uniffi-bindgen a second time in debug mode.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .atomic import write_text_atomic
from .cargo import cargo_executable
from .common import Source
from .errors import BuildError
from .plan import BuildTarget, feature_args, profile_args
from .project import Project
from .toml import load_toml

__all__ = ["uniffi_bindgen_command", "uniffi_files"]

log = logging.getLogger("maturin_nox")


def _bindgen_bin(package: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    for target in package.get("targets", []):
        if target.get("name") == "uniffi-bindgen" and "bin" in target.get("kind", []):
            return target  # type: ignore[no-any-return]
    return None


def _installed_bindgen() -> Optional[str]:
    """``uniffi-bindgen`` on PATH, else in the scripts folder of the running interpreter."""
    found = shutil.which("uniffi-bindgen")
    if found is not None:
        return found
    scripts = sysconfig.get_path("scripts")
    exe = "uniffi-bindgen.exe" if sys.platform == "win32" else "uniffi-bindgen"
    return shutil.which(exe, path=scripts) if scripts else None


def uniffi_bindgen_command(
    project: Project, *, target_dir: Optional[Path] = None, profile: str = "dev"
) -> Tuple[List[str], Path]:
    """The ``uniffi-bindgen`` command to run and the folder to run it in.

    A binary of the crate (or its workspace) is run with ``cargo run`` in
    ``target_dir`` and ``profile``, the ones the library was built with.
    """
    crate_dir = project.manifest_path.parent
    own = _bindgen_bin(project.package)
    members = set(project.cargo_metadata.get("workspace_members", []))
    in_workspace = [
        (p, t)
        for p in project.cargo_metadata.get("packages", [])
        if p.get("id") in members
        for t in [_bindgen_bin(p)]
        if t is not None
    ]
    if own is not None or in_workspace:
        target = own if own is not None else in_workspace[0][1]
        cmd = [cargo_executable(), "run", "--quiet", "--bin", "uniffi-bindgen"]
        cwd = crate_dir
        required = list(target.get("required-features") or [])
        if own is not None:
            cmd += ["--manifest-path", str(project.manifest_path)]
            # the library's features, so cargo reuses the dependencies it just built
            cmd += feature_args(project, required)
        else:
            cwd = project.workspace_root
            cmd += ["--features", ",".join(required)] if required else []
        if target_dir is not None:
            cmd += ["--target-dir", str(target_dir)]
        cmd += profile_args(profile)
        cmd += project.cargo_flags()
        cmd.append("--")
        return cmd, cwd
    exe = _installed_bindgen()
    if exe is None:
        raise BuildError(
            f"{project.crate_name} uses uniffi bindings but uniffi-bindgen was not found: add a "
            "`uniffi-bindgen` [[bin]] to the crate or its workspace, or install it "
            "(`pip install uniffi-bindgen`)."
        )
    return [exe], crate_dir


def _library_name(project: Project, cdylib_path: Path, system: str) -> str:
    config = project.manifest_path.parent / "uniffi.toml"
    if config.is_file():
        python = load_toml(config).get("bindings", {}).get("python", {})
        name = python.get("cdylib_name") if isinstance(python, dict) else None
        if isinstance(name, str):
            # the names uniffi's Python loader looks for
            if system == "darwin":
                return f"lib{name}.dylib"
            return f"{name}.dll" if system == "windows" else f"lib{name}.so"
    return cdylib_path.name


def _external_packages(config: Path) -> List[str]:
    """uniffi.toml's ``bindings.python.external_packages``: crates whose bindings another
    package provides, so their generated modules are neither packed nor imported."""
    if not config.is_file():
        return []
    python = load_toml(config).get("bindings", {}).get("python", {})
    external = python.get("external_packages") if isinstance(python, dict) else None
    return [str(k) for k in external] if isinstance(external, dict) else []


def _package_arcname(project: Project) -> str:
    parts = project.module_name.split(".")
    if not project.mixed:
        return parts[-1]
    rust_module = parts[:-1] if len(parts) > 1 else parts
    return "/".join([*rust_module, parts[-1]])


def _generate(project: Project, cmd: List[str], cwd: Path) -> Dict[str, str]:
    """Run ``uniffi-bindgen generate`` (``cmd`` without ``--out-dir``): module name -> source."""
    with tempfile.TemporaryDirectory(prefix="maturin-nox-uniffi-") as tmp:
        out_dir = Path(tmp)
        cmd = [*cmd, "--out-dir", str(out_dir)]
        log.debug("Running %s", " ".join(cmd))
        try:
            # uniffi-bindgen runs on the host, whatever the library was built for
            env = {k: v for k, v in os.environ.items() if k != "CARGO_BUILD_TARGET"}
            proc = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True)
        except OSError as exc:
            raise BuildError(f"Cannot run `{cmd[0]}`: {exc.strerror}.") from None
        if proc.returncode != 0:
            tail = " | ".join(proc.stderr.strip().splitlines()[-5:]) or "no output"
            raise BuildError(f"`uniffi-bindgen generate` failed for {project.crate_name}: {tail}")
        # the folder's own order (readdir), as maturin imports them: not sorted
        with os.scandir(out_dir) as entries:
            found = [Path(e.path) for e in entries if e.name.endswith(".py") and e.is_file()]
        modules = {p.stem: p.read_text(encoding="utf-8") for p in found}
    if not modules:
        raise BuildError(
            f"uniffi-bindgen wrote no Python module for {project.crate_name}; "
            "does the library export anything with #[uniffi::export] or a .udl file?"
        )
    return modules


def _glue_key(cmd: List[str], cwd: Path, config: Path, cdylib_path: Path) -> str:
    """What the generated modules depend on: the command, the library, uniffi.toml, the tool.

    The crate's own binary needs no stamp of its own: the uniffi version it is
    built from is the library's, so a change to it relinks the library.
    """
    st = cdylib_path.stat()
    tool: List[object] = []
    if Path(cmd[0]).name.startswith("uniffi-bindgen"):
        tool_stat = Path(cmd[0]).stat()
        tool = [tool_stat.st_size, tool_stat.st_mtime_ns]
    inputs = {
        "format": 2,  # 2: modules in the folder's order (1 sorted them)
        "cmd": cmd,
        "cwd": str(cwd),
        "library": [str(cdylib_path), st.st_size, st.st_mtime_ns],
        "config": config.read_text(encoding="utf-8") if config.is_file() else None,
        "tool": tool,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _modules(
    project: Project,
    cmd: List[str],
    cwd: Path,
    config: Path,
    cdylib_path: Path,
    cache: Optional[Path],
) -> Dict[str, str]:
    """The generated modules, reused from ``cache`` while nothing they depend on changed."""
    if cache is None:
        return _generate(project, cmd, cwd)
    key = _glue_key(cmd, cwd, config, cdylib_path)
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("key") == key and isinstance(cached.get("modules"), dict):
            log.debug("Reusing the uniffi glue generated for %s", cdylib_path)
            return cached["modules"]  # type: ignore[no-any-return]
    except (OSError, ValueError):
        pass
    modules = _generate(project, cmd, cwd)
    write_text_atomic(cache, json.dumps({"key": key, "modules": modules}))
    return modules


def uniffi_files(
    project: Project,
    target: BuildTarget,
    cdylib_path: Path,
    *,
    target_dir: Optional[Path] = None,
    profile: str = "dev",
) -> Dict[str, Source]:
    """The uniffi package's files by archive name: ``__init__.py``, generated modules, the library.

    With ``target_dir``, the generated modules are kept there and reused while
    the library, uniffi.toml and the bindgen command are unchanged (running
    uniffi-bindgen, even through a no-op ``cargo run``, is most of a no-op build).
    """
    cmd, cwd = uniffi_bindgen_command(project, target_dir=target_dir, profile=profile)
    config = project.manifest_path.parent / "uniffi.toml"
    system = target.interpreter.system if target.interpreter is not None else "linux"
    package = _package_arcname(project)
    cmd = [*cmd, "generate", "--no-format", "--language", "python"]
    if config.is_file():
        cmd += ["--config", str(config)]
    cmd += ["--library", str(cdylib_path)]
    cache = None
    if target_dir is not None:
        cache = target_dir / f"uniffi-glue-{project.crate_name}.json"
    modules = _modules(project, cmd, cwd, config, cdylib_path, cache)
    external = _external_packages(config)
    modules = {name: source for name, source in modules.items() if name not in external}
    files: Dict[str, Source] = {
        f"{package}/{name}.py": source.encode() for name, source in modules.items()
    }
    init = "".join(f"from .{name} import *  # NOQA\n" for name in modules)
    files[f"{package}/__init__.py"] = init.encode()
    files[f"{package}/{_library_name(project, cdylib_path, system)}"] = cdylib_path
    return files
