"""Type stubs (``.pyi``) from the introspection data pyo3's ``experimental-inspect``
feature embeds in a library, placed as maturin 1.16 places them.

As in maturin, stubs are generated only when asked for (``--generate-stubs`` on
build, develop and publish, or ``maturin-nox generate-stubs``); a library
without introspection data is then an error. In a wheel:

- pure Rust layout: the files go into the module's package (``pkg/__init__.pyi``,
  ``pkg/<submodule>.pyi``) with an empty ``py.typed``; they win over a hand-written
  ``<module>.pyi`` beside ``Cargo.toml``, with a warning;
- mixed layout: one file becomes ``<package>/<ext>.pyi`` beside the extension, several
  go into ``<package>/<ext>/``, and no ``py.typed`` is added. A different file the
  Python sources already hold at that path is an error (maturin fails on any such
  file; an identical one, which ``develop --generate-stubs`` leaves there, is accepted).

Nothing imports this package unless stubs are asked for.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional

from ..common import Source
from .introspection import StubError, introspect
from .render import module_stub_files

if TYPE_CHECKING:
    from ..options import BuildOptions
    from ..plan import BuildTarget
    from ..project import Project

__all__ = [
    "StubError",
    "generate_stubs",
    "introspection_stubs",
    "library_stubs",
    "stub_arcnames",
]

log = logging.getLogger("maturin_nox")

_PYO3_KINDS = ("pyo3", "pyo3-ffi")


def library_stubs(library: Path, module_name: str) -> Dict[str, str]:
    """The stub files of a built library (relative path -> text), as pyo3-introspection writes them."""
    return module_stub_files(introspect(library, module_name))


def _extension_name(project: Project) -> str:
    return project.module_name.split(".")[-1]


def stub_arcnames(project: Project, stubs: Mapping[str, str], ext_arcname: str) -> Dict[str, bytes]:
    """Where a wheel holds the stub files of the extension at ``ext_arcname``."""
    folder = ext_arcname.rsplit("/", 1)[0] if "/" in ext_arcname else ""
    prefix = f"{folder}/" if folder else ""
    name = _extension_name(project)
    if project.mixed:
        if list(stubs) == ["__init__.pyi"]:
            return {f"{prefix}{name}.pyi": stubs["__init__.pyi"].encode()}
        return {f"{prefix}{name}/{path}": text.encode() for path, text in stubs.items()}
    out = {f"{prefix}{path}": text.encode() for path, text in stubs.items()}
    out[f"{prefix}py.typed"] = b""
    return out


def _same_content(source: Source, data: bytes) -> bool:
    if isinstance(source, bytes):
        return source == data
    try:
        return source.read_bytes() == data
    except OSError:
        return False


def introspection_stubs(
    project: Project, target: BuildTarget, files: Mapping[str, Source], *, replace: bool = False
) -> Dict[str, Source]:
    """The stub files to add to a wheel whose other ``files`` are laid out (``--generate-stubs``).

    ``replace``: an editable install, where the new stubs are written over the ones
    the sources hold (as maturin's develop does) instead of refusing a different one.
    """
    from .. import layout

    if project.bindings.kind not in _PYO3_KINDS:
        log.warning(
            f"--generate-stubs reads pyo3's introspection data; {project.bindings.kind} "
            "bindings have none, so no stubs are generated."
        )
        return {}
    assert target.ext_suffix is not None  # pyo3 targets always have one
    ext = layout.extension_arcname(project, target.ext_suffix)
    library = files.get(ext)
    if not isinstance(library, Path):
        raise StubError(f"The wheel has no compiled library at {ext} to read type stubs from.")
    generated = stub_arcnames(project, library_stubs(library, _extension_name(project)), ext)
    log.info("📖 Type stub extracted from the built binary")
    name = _extension_name(project)
    if not project.mixed and (project.root / f"{name}.pyi").is_file():
        log.warning(
            f"Ignoring the type stub file at {name}.pyi, stubs are automatically generated instead"
        )
    out: Dict[str, Source] = {}
    for arcname, data in generated.items():
        if layout.is_excluded(arcname, project.config.exclude, "wheel"):
            log.debug("Excluded %s from the wheel", arcname)
            continue
        existing = files.get(arcname)
        if (
            project.mixed
            and not replace
            and existing is not None
            and not _same_content(existing, data)
        ):
            where = existing if isinstance(existing, Path) else arcname
            raise StubError(
                f"{where} is already in the wheel where --generate-stubs puts the stub "
                f"{arcname}; delete it or build without --generate-stubs."
            )
        out[arcname] = data
    return out


def _library_of(project: Project, options: BuildOptions) -> Path:
    """Build the project's library for the first interpreter, as maturin's generate-stubs does."""
    from ..builder import compile_target, target_lock
    from ..plan import resolve_plan

    plan = resolve_plan(project, options)
    target = plan.targets[0]
    with target_lock(plan, target):
        library = compile_target(plan, target).cdylib()
    if library is None:
        raise StubError(
            f"cargo produced no cdylib for {project.crate_name}; check [lib] crate-type in "
            f"{project.manifest_path}."
        )
    return library


def generate_stubs(
    options: BuildOptions, out_dir: Path, *, library: Optional[Path] = None
) -> List[Path]:
    """``maturin-nox generate-stubs``: build (or read ``library``) and write the stubs into ``out_dir``.

    As maturin 1.16, the files are laid out as in a wheel (without ``py.typed``), so
    ``out_dir`` can be copied over the Python sources: a pure project's go into
    ``<out>/<module>/``, a mixed project's one file to ``<out>/<package>/<ext>.pyi``, several
    into ``<out>/<package>/<ext>/``; a folder written to is replaced as a whole.
    """
    from .. import layout
    from ..builder import open_project

    project = open_project(options)
    if project.bindings.kind not in _PYO3_KINDS:
        raise StubError(
            f"Stub generation is only possible for pyo3 projects; {project.manifest_path} "
            f"uses {project.bindings.kind} bindings."
        )
    if library is None:
        library = _library_of(project, options)
    stubs = library_stubs(library, _extension_name(project))  # fails before anything is written
    ext = layout.extension_arcname(project, "")  # only its folder matters
    files = {
        a: d
        for a, d in stub_arcnames(project, stubs, ext).items()
        if a.rsplit("/", 1)[-1] != "py.typed"
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    if project.mixed and list(stubs) == ["__init__.pyi"]:
        from ..atomic import write_text_atomic

        ((arcname, data),) = files.items()
        write_text_atomic(out_dir / arcname, data.decode())
        return [out_dir / arcname]
    folder = ext.rsplit("/", 1)[0] if "/" in ext else ""
    replaced = f"{folder}/{_extension_name(project)}" if project.mixed else folder
    return _replace_folder(
        out_dir / replaced, {a[len(replaced) + 1 :]: d for a, d in files.items()}
    )


def _replace_folder(final: Path, files: Mapping[str, bytes]) -> List[Path]:
    """Put a folder holding exactly ``files`` at ``final``, swapped in whole."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        for relpath in sorted(files):
            path = staging / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[relpath])
        os.chmod(staging, 0o777 & ~_umask())
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
            os.replace(final, old / final.name)
            os.replace(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [final / relpath for relpath in sorted(files)]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
