"""New projects: the files of a fresh pyo3, cffi or bin project, written only when all is well.

``maturin-nox new`` and ``init`` lay projects out as maturin does (pure Rust,
``--mixed`` with a ``python/`` package, ``--src`` with Python in ``src/`` and
Rust in ``rust/``), plus a ``tests/`` folder, a test extra and a noxfile using
:mod:`maturin_nox.sessions`, so ``nox -s build test`` passes right away.
Every check runs before the first file is written: bad input writes nothing.
"""

from __future__ import annotations

import keyword
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .ci import WorkflowOptions, github_workflow, supported_pythons
from .errors import ConfigError, ProjectError
from .templates import PYO3_VERSION, render

__all__ = [
    "BINDINGS",
    "ProjectSpec",
    "init_project",
    "new_project",
    "project_files",
    "project_spec",
]

log = logging.getLogger("maturin_nox")

BINDINGS = ("pyo3", "cffi", "bin")
REQUIRES_PYTHON = ">=3.8"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Rust keywords cannot name a crate's library; cargo refuses these package names.
_RUST_KEYWORDS = frozenset(
    "abstract as async await become box break const continue crate do dyn else enum extern "
    "false final fn for gen if impl in let loop macro match mod move mut override priv pub ref "
    "return self static struct super trait true try type typeof unsafe unsized use virtual "
    "where while yield".split()
)
# Names cargo reserves or that would shadow the standard library crates.
_RESERVED = frozenset({"std", "core", "alloc", "proc_macro", "test", "build", "deps", "examples"})


@dataclass(frozen=True)
class ProjectSpec:
    """What a new project is: its names, bindings and layout."""

    name: str  # the distribution and crate name, as given
    bindings: str = "pyo3"
    mixed: bool = False
    src: bool = False  # Python in src/, Rust in rust/ (implies mixed)

    @property
    def module(self) -> str:
        """The importable name: the name with dashes as underscores."""
        return self.name.replace("-", "_")

    @property
    def rust_dir(self) -> str:
        """The folder holding Cargo.toml, relative to the project ('' for the root)."""
        return "rust/" if self.src else ""

    @property
    def python_dir(self) -> str:
        """The python-source folder of a mixed project."""
        return "src/" if self.src else "python/"

    @property
    def extension(self) -> str:
        """The last component of the pyo3 module name (a private ``_core`` when mixed)."""
        return "_core" if self.mixed else self.module


def validate_name(name: str, subject: str) -> str:
    """Return ``name`` if it can name a Python package and a Rust crate, else raise ConfigError.

    ``subject`` says where the name came from, e.g. ``The name '1abc'``.
    """
    module = name.replace("-", "_")
    if not _NAME_RE.match(name) or not module.isidentifier():
        raise ConfigError(
            f"{subject} is not a valid Python package name: use letters, digits, '_' and '-', "
            "starting with a letter or '_' (pass --name to choose another).",
            key="name",
        )
    lowered = module.lower()
    if keyword.iskeyword(module) or lowered in _RUST_KEYWORDS or lowered in _RESERVED:
        raise ConfigError(
            f"{subject} is a reserved word in Python or Rust and cannot name a project "
            "(pass --name to choose another).",
            key="name",
        )
    return name


def project_spec(
    path: Path,
    *,
    name: Optional[str] = None,
    bindings: Optional[str] = None,
    mixed: bool = False,
    src: bool = False,
) -> ProjectSpec:
    """Check the options and decide the project: its name defaults to the folder's name."""
    chosen = bindings or "pyo3"
    if chosen not in BINDINGS:
        raise ConfigError(
            f"Unknown bindings {chosen!r} for a new project; use one of {', '.join(BINDINGS)}.",
            key="bindings",
        )
    if name is not None:
        validate_name(name, f"The name {name!r}")
    else:
        folder = Path(path).absolute().name
        validate_name(folder, f"The folder name {folder!r} (of {Path(path).absolute()})")
        name = folder
    return ProjectSpec(name=name, bindings=chosen, mixed=mixed or src, src=src)


# --- the files ---------------------------------------------------------------------------


def _cargo_toml(spec: ProjectSpec) -> str:
    lib = "" if spec.bindings == "bin" else render("lib_section", lib=spec.module)
    deps = render("pyo3_dependency", pyo3_version=PYO3_VERSION) if spec.bindings == "pyo3" else ""
    return render("Cargo.toml", crate=spec.name, lib_section=lib, dependencies=deps)


def _maturin_keys(spec: ProjectSpec) -> str:
    """The [tool.maturin] keys after ``bindings``: where the sources are."""
    keys: List[str] = []
    if spec.mixed:
        keys.append(f'python-source = "{spec.python_dir.rstrip("/")}"')
        if spec.bindings == "pyo3":
            keys.append(f'module-name = "{spec.module}.{spec.extension}"')
        elif spec.bindings == "bin":
            # a binary has no [lib] name, and project.name is taken as written ("my-app"):
            # name the package, or maturin (and maturin-nox) look for python/my-app
            keys.append(f'module-name = "{spec.module}"')
    if spec.src:
        keys.append('manifest-path = "rust/Cargo.toml"')
    return "".join(f"{key}\n" for key in keys)


def _pyproject(spec: ProjectSpec) -> str:
    deps = 'dependencies = ["cffi"]\n' if spec.bindings == "cffi" else ""
    return render(
        "pyproject.toml",
        name=spec.name,
        requires_python=REQUIRES_PYTHON,
        dependencies=deps,
        bindings=spec.bindings,
        maturin_keys=_maturin_keys(spec),
    )


def _rust_files(spec: ProjectSpec) -> Dict[str, str]:
    base = spec.rust_dir
    values = {"name": spec.name, "module": spec.module}
    if spec.bindings == "pyo3":
        pymodule = f"{spec.module}.{spec.extension}" if spec.mixed else spec.module
        return {f"{base}src/lib.rs": render("pyo3/lib.rs", pyfn=spec.extension, pymodule=pymodule)}
    if spec.bindings == "cffi":
        return {
            f"{base}src/lib.rs": render("cffi/lib.rs"),
            f"{base}header.h": render("cffi/header.h"),
            f"{base}build.rs": render("cffi/build.rs"),
        }
    return {f"{base}src/main.rs": render("bin/main.rs", **values)}


def _python_files(spec: ProjectSpec) -> Dict[str, str]:
    if not spec.mixed:
        return {}
    values = {
        "name": spec.name,
        "module": spec.module,
        "pyfn": spec.extension,
        "pymodule": f"{spec.module}.{spec.extension}",
    }
    init = render(f"{spec.bindings}/__init__.py", **values)
    return {f"{spec.python_dir}{spec.module}/__init__.py": init}


def _test_file(spec: ProjectSpec) -> str:
    template = f"{spec.bindings}/test.py"
    if spec.mixed and spec.bindings in ("cffi", "bin"):
        template = f"{spec.bindings}-mixed/test.py"
    return render(template, name=spec.name, module=spec.module)


def project_files(spec: ProjectSpec) -> Dict[str, str]:
    """Every file of the new project by relative path (forward slashes), with its text."""
    pythons = supported_pythons(REQUIRES_PYTHON)
    files = {
        ".gitignore": render(".gitignore"),
        f"{spec.rust_dir}Cargo.toml": _cargo_toml(spec),
        "pyproject.toml": _pyproject(spec),
        "noxfile.py": render(
            "noxfile.py", name=spec.name, pythons=", ".join(f'"{v}"' for v in pythons)
        ),
        f"tests/test_{spec.module}.py": _test_file(spec),
        ".github/workflows/CI.yml": github_workflow(WorkflowOptions(tuple(pythons))),
    }
    files.update(_rust_files(spec))
    files.update(_python_files(spec))
    return dict(sorted(files.items()))


# --- writing -----------------------------------------------------------------------------


def _write(root: Path, files: Dict[str, str]) -> List[Path]:
    """Write the files under ``root``; on failure remove what this call wrote."""
    written: List[Path] = []
    made_dirs: List[Path] = []
    try:
        for relpath, text in files.items():
            target = root / relpath
            for parent in reversed(target.relative_to(root).parents):
                folder = root / parent
                if not folder.exists():
                    folder.mkdir()
                    made_dirs.append(folder)
            with open(target, "x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            written.append(target)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            shutil.rmtree(folder, ignore_errors=True)
        raise ProjectError(f"Cannot write {target}: {exc.strerror or exc}.", target) from None
    return written


def new_project(
    path: Path,
    *,
    name: Optional[str] = None,
    bindings: Optional[str] = None,
    mixed: bool = False,
    src: bool = False,
) -> Tuple[ProjectSpec, List[Path]]:
    """Create a project in a new (or empty) folder; return its spec and the files written."""
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{root} exists and is not a folder; `new` needs a new folder.", root)
    if root.is_dir() and any(root.iterdir()):
        raise ProjectError(
            f"{root} already exists and is not empty; use `maturin-nox init` to add a project "
            "to an existing folder.",
            root,
        )
    spec = project_spec(root, name=name, bindings=bindings, mixed=mixed, src=src)
    files = project_files(spec)
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"Cannot create {root}: {exc.strerror or exc}.", root) from None
    try:
        written = _write(root, files)
    except ProjectError:
        if created:
            shutil.rmtree(root, ignore_errors=True)
        raise
    log.info(f"✨ Created the {_describe(spec)} project {spec.name} in {root}")
    return spec, written


def init_project(
    path: Optional[Path] = None,
    *,
    name: Optional[str] = None,
    bindings: Optional[str] = None,
    mixed: bool = False,
    src: bool = False,
) -> Tuple[ProjectSpec, List[Path]]:
    """Add a project to an existing folder, refusing to overwrite any file; keep a .gitignore."""
    root = Path(path) if path is not None else Path.cwd()
    if not root.is_dir():
        raise ProjectError(f"{root} is not a folder; `init` works in an existing folder.", root)
    spec = project_spec(root, name=name, bindings=bindings, mixed=mixed, src=src)
    files = project_files(spec)
    if (root / ".gitignore").exists():
        del files[".gitignore"]  # the project's own ignore rules stay as they are
    for relpath in files:
        if (root / relpath).exists() or (root / relpath).is_symlink():
            raise ProjectError(
                f"{root / relpath} already exists; `init` does not overwrite files.", root / relpath
            )
    written = _write(root, files)
    log.info(f"✨ Initialized the {_describe(spec)} project {spec.name} in {root}")
    return spec, written


def _describe(spec: ProjectSpec) -> str:
    layout = " src-layout" if spec.src else " mixed" if spec.mixed else ""
    return f"{spec.bindings}{layout}"
