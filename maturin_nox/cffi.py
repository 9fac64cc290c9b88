"""cffi bindings: the C header, the ``ffi.py`` cffi writes from it, and the loader.

As maturin does it: a header a build script left at ``<target dir>/header.h``
wins; otherwise ``cbindgen`` writes one (honouring the crate's
``cbindgen.toml``, with the settings cffi cannot parse forced off). The target
interpreter then runs cffi's recompiler on the header to produce ``ffi.py``,
and an ``__init__.py`` opens the shared library with ``ffi.dlopen`` so that
``from <module> import ffi, lib`` works. The wheel is ``py3-none-<platform>``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .common import Source
from .errors import BuildError
from .interpreters import Interpreter, default
from .plan import BuildTarget
from .project import Project
from .toml import dumps_toml, load_toml

__all__ = [
    "cffi_declarations",
    "cffi_files",
    "cffi_header",
    "cffi_init",
    "cffi_library_name",
    "cffi_package_arcname",
]

log = logging.getLogger("maturin_nox")

# Run by the target interpreter: cffi's recompiler turns the header into ffi.py.
_RECOMPILE = """
import sys
import cffi
from cffi import recompiler

ffi = cffi.FFI()
with open(sys.argv[1]) as header:
    ffi.cdef(header.read())
recompiler.make_py_source(ffi, "ffi", sys.argv[2])
"""

# cbindgen settings cffi cannot cope with (includes, #define/#ifdef, C++), as maturin forces them.
_FORCED: Dict[str, Any] = {
    "language": "C",
    "no_includes": True,
    "sys_includes": [],
    "defines": {},
    "pragma_once": False,
    "cpp_compat": False,
}


def cffi_library_name(project: Project, system: Optional[str] = None) -> str:
    """The shared library's file name inside the package: ``lib<ext>.so``, ``.dylib`` or ``<ext>.dll``."""
    ext = project.module_name.split(".")[-1]
    system = system or _system()
    if system == "darwin":
        return f"lib{ext}.dylib"
    if system == "windows":
        return f"{ext}.dll"
    return f"lib{ext}.so"


def _system() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    return "darwin" if sys.platform == "darwin" else "linux"


def cffi_package_arcname(project: Project) -> str:
    """The package folder holding the cffi glue: ``pkg/ext`` for ``pkg.ext`` or ``pkg/pkg`` (mixed), ``ext`` (pure)."""
    parts = project.module_name.split(".")
    if not project.mixed:
        return parts[-1]
    # maturin nests the glue in a package named after the extension inside the Rust
    # module's folder, which for an undotted module name is the Python package itself
    rust_module = parts[:-1] if len(parts) > 1 else parts
    return "/".join([*rust_module, parts[-1]])


def cffi_init(library_name: str) -> bytes:
    """The ``__init__.py`` that opens the shared library next to it (maturin's text)."""
    return (
        '__all__ = ["lib", "ffi"]\n'
        "\n"
        "import os\n"
        "from .ffi import ffi\n"
        "\n"
        f"lib = ffi.dlopen(os.path.join(os.path.dirname(__file__), '{library_name}'))\n"
        "del os\n"
    ).encode()


def _cargo_target_dir(artifact: Path) -> Optional[Path]:
    """The cargo target directory an artifact was built in (the folder cargo tagged CACHEDIR.TAG)."""
    for folder in artifact.parents:
        if (folder / "CACHEDIR.TAG").is_file():
            return folder
    return None


def _header_candidates(
    project: Project, target_dirs: Sequence[Path], cdylib_path: Optional[Path] = None
) -> List[Path]:
    """Where a build script may have written ``header.h``: the cargo target dir(s).

    maturin reads ``<target dir>/header.h``; our builds run in a target dir per
    configuration, so the one the library was built in comes first.
    """
    built_in = _cargo_target_dir(cdylib_path) if cdylib_path is not None else None
    crate_target = project.manifest_path.parent / "target"
    out: List[Path] = []
    for folder in [
        *([built_in] if built_in else []),
        *target_dirs,
        project.target_directory,
        crate_target,
    ]:
        candidate = Path(folder) / "header.h"
        if candidate not in out:
            out.append(candidate)
    return out


def cffi_header(
    project: Project,
    workdir: Path,
    target_dirs: Sequence[Path] = (),
    cdylib_path: Optional[Path] = None,
) -> Path:
    """The C header for the cffi declarations: a build script's ``header.h``, else cbindgen's."""
    candidates = _header_candidates(project, target_dirs, cdylib_path)
    for candidate in candidates:
        if candidate.is_file():
            log.info(f"💼 Using the existing header at {candidate}")
            return candidate
    cbindgen = shutil.which("cbindgen")
    if cbindgen is None:
        raise BuildError(
            f"{project.crate_name} uses cffi bindings but has no C header: install cbindgen "
            "(`cargo install cbindgen`) so one can be generated, or have a build script write "
            f"{candidates[0]}."
        )
    return _run_cbindgen(cbindgen, project, workdir)


def _run_cbindgen(cbindgen: str, project: Project, workdir: Path) -> Path:
    crate_dir = project.manifest_path.parent
    config: Dict[str, Any] = {}
    user_config = crate_dir / "cbindgen.toml"
    if user_config.is_file():
        log.info(
            "💼 Using the existing cbindgen.toml configuration, with language = C, no includes, "
            "no defines, no include guard or pragma once and no C++ compatibility (cffi needs that)."
        )
        config = dict(load_toml(user_config))
    config.update(_FORCED)
    config.pop("include_guard", None)
    config_path = workdir / "cbindgen.toml"
    config_path.write_text(dumps_toml(config), encoding="utf-8")
    header = workdir / "header.h"
    cmd = [
        cbindgen,
        "--quiet",
        "--config",
        str(config_path),
        "--lang",
        "c",
        "--crate",
        project.crate_name,
        "--output",
        str(header),
        str(crate_dir),
    ]
    log.debug("Running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(crate_dir))
    if proc.returncode != 0 or not header.is_file():
        raise BuildError(
            f"`cbindgen` failed to write the C header for {project.crate_name} "
            f"({project.manifest_path}): {_tail(proc.stderr)}"
        )
    return header


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "no output"


def _run_python(python: Path, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([str(python), *args], capture_output=True, text=True)
    except OSError as exc:
        raise BuildError(f"Cannot run the Python interpreter {python}: {exc.strerror}.") from None


def _in_virtualenv(python: Path) -> bool:
    proc = _run_python(python, ["-c", "import sys; print(sys.base_prefix != sys.prefix)"])
    return proc.stdout.strip() == "True"


def cffi_declarations(header: Path, python: Path) -> bytes:
    """``ffi.py`` generated from ``header`` by cffi in ``python`` (installing cffi into a venv)."""
    with tempfile.TemporaryDirectory(prefix="maturin-nox-cffi-") as tmp:
        ffi_py = Path(tmp) / "ffi.py"
        args = ["-c", _RECOMPILE, str(header), str(ffi_py)]
        proc = _run_python(python, args)
        missing = proc.returncode != 0 and "No module named 'cffi'" in proc.stderr
        if missing and _in_virtualenv(python):
            # as maturin: install cffi into a virtualenv, never into a system interpreter
            log.warning(f"⚠️ cffi not found in {python}; installing it with pip")
            pip = _run_python(
                python, ["-m", "pip", "install", "--disable-pip-version-check", "cffi"]
            )
            if pip.returncode != 0:
                raise BuildError(
                    f"Installing cffi with `{python} -m pip install cffi` failed "
                    f"({_tail(pip.stderr)}); please install cffi yourself."
                )
            log.info("🎁 Installed cffi")
            proc = _run_python(python, args)
        elif missing and Path(sys.executable) != python:
            # ffi.py is plain Python, the same whichever interpreter writes it, and
            # maturin-nox's own interpreter always has cffi (a dependency of ours).
            log.info(f"cffi is not installed in {python}; generating ffi.py with {sys.executable}")
            proc = _run_python(Path(sys.executable), args)
        if proc.returncode != 0:
            hint = (
                f"; install cffi into that interpreter (`{python} -m pip install cffi`)"
                if "No module named 'cffi'" in proc.stderr
                else ""
            )
            raise BuildError(
                f"Generating the cffi declarations from {header} with {python} failed: "
                f"{_tail(proc.stderr)}{hint}."
            )
        if proc.stderr.strip():
            log.warning(proc.stderr.strip())
        return ffi_py.read_bytes()


def _interpreter(target: BuildTarget) -> Interpreter:
    return target.interpreter if target.interpreter is not None else default()


def cffi_files(
    project: Project,
    target: BuildTarget,
    cdylib_path: Path,
    *,
    target_dirs: Sequence[Path] = (),
) -> Dict[str, Source]:
    """The cffi package's files by archive name: ``__init__.py``, ``ffi.py``, the shared library.

    Archive names are relative to the Python source folder, so ``develop`` can
    write the same mapping into ``project.python_source`` (see
    :func:`maturin_nox.layout.write_files`).
    """
    interp = _interpreter(target)
    library = cffi_library_name(project, interp.system)
    package = cffi_package_arcname(project)
    with tempfile.TemporaryDirectory(prefix="maturin-nox-cbindgen-") as tmp:
        header = cffi_header(project, Path(tmp), target_dirs, cdylib_path)
        declarations = cffi_declarations(header, interp.executable)
    return {
        f"{package}/__init__.py": cffi_init(library),
        f"{package}/ffi.py": declarations,
        f"{package}/{library}": cdylib_path,
    }
