"""Building wheels: project -> targets -> cargo artifacts -> files -> audit -> wheel.

This is the whole path of a ``maturin-nox build`` (and of the backend, the nox
sessions and the tox plugin, which all call :func:`build`). Wheels are staged
in a hidden folder inside the output folder and moved into place only when
every target built, so a failed or interrupted build leaves no wheel behind.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import cargo, layout, sbom
from .errors import BuildError
from .interpreters import Interpreter, select
from .plan import BuildTarget, cargo_command, cargo_env, plan_targets, platform_tag, resolve_profile
from .project import Project, load_project
from .wheel import WheelWriter, escape_name

__all__ = ["BuildOptions", "BuiltWheel", "build", "build_target", "choose_interpreters"]

log = logging.getLogger("maturin_nox")


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build can be asked for; the CLI flags of ``maturin-nox build``."""

    manifest_path: Optional[Path] = None
    interpreters: Tuple[str, ...] = ()
    find_interpreter: bool = False
    bindings: Optional[str] = None
    out_dir: Optional[Path] = None
    release: bool = False
    profile: Optional[str] = None
    strip: Optional[bool] = None
    features: Tuple[str, ...] = ()
    all_features: bool = False
    no_default_features: bool = False
    target_dir: Optional[Path] = None
    cargo_args: Tuple[str, ...] = ()
    compatibility: Optional[str] = None
    auditwheel: Optional[str] = None
    zig: bool = False
    quiet: bool = False
    jobs: Optional[int] = None
    cwd: Optional[Path] = None
    editable: bool = False

    def replace(self, **changes: Any) -> BuildOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel on disk and what it is for."""

    path: Path
    tag: str
    target: BuildTarget
    interpreters: Tuple[Interpreter, ...] = field(default=())
    policy: Optional[str] = None

    @property
    def abi3(self) -> bool:
        """Whether the wheel targets the stable ABI (one wheel for many interpreters)."""
        return self.target.abi3


def _options(options: Optional[BuildOptions], kwargs: Dict[str, Any]) -> BuildOptions:
    opts = options or BuildOptions()
    for key in ("interpreters", "features", "cargo_args"):
        if key in kwargs and isinstance(kwargs[key], (list, str)):
            value = kwargs[key]
            kwargs[key] = (value,) if isinstance(value, str) else tuple(value)
    for key in ("manifest_path", "out_dir", "target_dir", "cwd"):
        if kwargs.get(key) is not None:
            kwargs[key] = Path(kwargs[key])
    return opts.replace(**kwargs) if kwargs else opts


def open_project(options: BuildOptions) -> Project:
    """Load the project the options point at."""
    return load_project(
        options.manifest_path,
        cwd=options.cwd,
        bindings=options.bindings,
        features=options.features,
        all_features=options.all_features,
        no_default_features=options.no_default_features,
    )


def choose_interpreters(project: Project, options: BuildOptions) -> List[Interpreter]:
    """The interpreters to build for, filtered by the project's requires-python."""
    kind = project.bindings.kind
    if kind == "bin" and not options.interpreters and not options.find_interpreter:
        return []
    source = str(project.pyproject_path or project.manifest_path)
    interps = select(
        options.interpreters,
        find=options.find_interpreter,
        requires_python=project.metadata.requires_python,
        requires_python_source=source,
    )
    for interp in interps:
        log.debug("🐍 Using %s", interp.display())
    return interps


def build(options: Optional[BuildOptions] = None, /, **kwargs: Any) -> List[BuiltWheel]:
    """Build the project's wheels, one per interpreter (or one abi3/py3 wheel)."""
    opts = _options(options, kwargs)
    project = open_project(opts)
    abi = " (abi3)" if project.bindings.abi3 else ""
    log.info(f"🔗 Found {project.bindings.kind} bindings{abi}")
    interps = choose_interpreters(project, opts)
    targets = plan_targets(project, interps)
    out_dir = (opts.out_dir or project.target_directory / "wheels").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".maturin-nox-", dir=out_dir))
    try:
        jobs = max(1, min(len(targets), opts.jobs or os.cpu_count() or 1))
        if jobs == 1:
            staged = [build_target(project, t, opts, staging) for t in targets]
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                staged = list(pool.map(lambda t: build_target(project, t, opts, staging), targets))
        built = []
        for wheel in staged:
            final = out_dir / wheel.path.name
            os.replace(wheel.path, final)
            built.append(dataclasses.replace(wheel, path=final))
            log.info(f"📦 Built wheel{_for(wheel)} to {final}")
        return built
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _for(wheel: BuiltWheel) -> str:
    if wheel.abi3:
        return f" for abi3 Python ≥ {wheel.target.python_tag[2]}.{wheel.target.python_tag[3:]}"
    if wheel.target.interpreter is not None and wheel.target.abi_tag != "none":
        i = wheel.target.interpreter
        return f" for {i.implementation.replace('cpython', 'CPython').replace('pypy', 'PyPy')} {i.major}.{i.minor}"
    return ""


def target_dir_for(project: Project, target: BuildTarget, options: BuildOptions) -> Path:
    """The cargo target directory of one build configuration."""
    root = options.target_dir or project.target_directory
    return Path(root) / "maturin-nox" / target.key


def compile_target(
    project: Project, target: BuildTarget, options: BuildOptions
) -> List[cargo.Artifact]:
    """Run cargo for one target and return the artifacts of the project's own package."""
    profile = resolve_profile(project, release=options.release, profile=options.profile)
    strip = project.config.strip if options.strip is None else options.strip
    cmd = cargo_command(
        project,
        cargo=cargo.cargo_executable(),
        profile=profile,
        target_dir=target_dir_for(project, target, options),
        strip=strip,
        cargo_args=options.cargo_args,
    )
    env = cargo_env(project, target)
    zig = options.zig or project.config.zig
    if zig:
        from .audit import zig_build_command

        cmd, zig_env = zig_build_command(cmd)
        env.update(zig_env)
    artifacts = cargo.run_build(cmd, env=env, cwd=project.manifest_path.parent, quiet=options.quiet)
    own = [a for a in artifacts if a.package_id == project.package["id"]]
    if not own:
        raise BuildError(f"cargo built nothing for {project.crate_name} ({project.manifest_path}).")
    return own


def _cdylib(project: Project, artifacts: Sequence[cargo.Artifact]) -> Path:
    for artifact in artifacts:
        if "cdylib" in artifact.crate_types:
            for filename in artifact.filenames:
                if filename.suffix in (".so", ".dylib", ".dll", ".pyd"):
                    return filename
    raise BuildError(
        f"cargo produced no cdylib for {project.crate_name}; check [lib] crate-type in {project.manifest_path}."
    )


def build_target(
    project: Project, target: BuildTarget, options: BuildOptions, out_dir: Path
) -> BuiltWheel:
    """Compile one target and write its wheel into ``out_dir``."""
    artifacts = compile_target(project, target, options)
    writer = WheelWriter(out_dir, project.name, project.version, ["py3-none-any"])
    files: Dict[str, layout.Source] = {}
    executables: set[str] = set()
    kind = project.bindings.kind
    if kind in ("pyo3", "pyo3-ffi", "rust-cpython"):
        assert target.ext_suffix is not None
        ext = layout.extension_arcname(project, target.ext_suffix)
        files[ext] = _cdylib(project, artifacts)
        if not project.mixed:
            module = project.module_name
            if "." not in module:
                files[f"{module}/__init__.py"] = layout.pure_init(module)
        files.update(layout.stub_files(project))
        files.update(layout.python_files(project, ext_arcname=ext))
    elif kind == "cffi":
        from .cffi import cffi_files

        files.update(cffi_files(project, target, _cdylib(project, artifacts)))
        files.update(layout.python_files(project))
    elif kind == "bin":
        from .binaries import binary_files

        bins, executables = binary_files(project, artifacts, writer.data_dir)
        files.update(bins)
        files.update(layout.python_files(project))
    else:
        from .uniffi import uniffi_files

        files.update(uniffi_files(project, target, _cdylib(project, artifacts)))
        files.update(layout.python_files(project))
    files.update(layout.data_files(project, writer.data_dir))
    files.update(layout.include_files(project, "wheel"))
    with tempfile.TemporaryDirectory(prefix="maturin-nox-repair-") as workdir:
        platforms, policy, files = _platform(project, target, options, files, Path(workdir))
        tags = [target.tag(p) for p in platforms]
        writer = WheelWriter(out_dir, project.name, project.version, tags)
        for arcname in sorted(files):
            source = files[arcname]
            if isinstance(source, bytes):
                writer.add_bytes(arcname, source, executable=arcname in executables)
            else:
                writer.add_file(
                    arcname, source, executable=True if arcname in executables else None
                )
    _write_dist_info(project, writer)
    path = writer.finish()
    return BuiltWheel(
        path,
        "-".join([target.python_tag, target.abi_tag, ".".join(platforms)]),
        target,
        target.serves,
        policy,
    )


def _platform(
    project: Project,
    target: BuildTarget,
    options: BuildOptions,
    files: Dict[str, layout.Source],
    workdir: Path,
) -> Tuple[List[str], Optional[str], Dict[str, layout.Source]]:
    """Platform tags from the audit (Linux), and the files after any repair."""
    plain = platform_tag(target.interpreter)
    if (
        not sys.platform.startswith("linux")
        or (project.config.target
        and "linux" not in project.config.target)
    ):
        return [plain], None, files
    compatibility = options.compatibility or project.config.compatibility
    if compatibility in ("linux", "off"):
        return [plain], None, files
    from .audit import apply_repair, decide_platform

    zig = options.zig or project.config.zig
    mode = options.auditwheel or project.config.auditwheel or "repair"
    elf_files = [p for a, p in files.items() if isinstance(p, Path) and _is_elf(p)]
    decision = decide_platform(
        elf_files,
        compatibility=compatibility,
        mode=mode,  # type: ignore[arg-type]
        libs_dir=f"{escape_name(project.name)}.libs",
        zig=zig,
    )
    for message in decision.messages:
        log.warning(message)
    if decision.grafts:
        elf_map = {a: p for a, p in files.items() if isinstance(p, Path) and p in elf_files}
        repaired = apply_repair(decision, elf_map, workdir=workdir)
        files = {**files, **repaired}
    return list(decision.platform_tags), decision.policy, files


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _write_dist_info(project: Project, writer: WheelWriter) -> None:
    core = project.metadata
    writer.add_dist_info("METADATA", core.metadata_text)
    if core.entry_points_text:
        writer.add_dist_info("entry_points.txt", core.entry_points_text)
    for relpath, source in core.license_files:
        writer.add_bytes(f"{writer.dist_info}/licenses/{relpath}", source.read_bytes())
    if project.config.sbom_rust:
        writer.add_dist_info(f"sboms/{sbom.sbom_filename(project)}", sbom.rust_sbom(project))
    for name, path in sbom.custom_sboms(project, list(project.config.sbom_include)).items():
        writer.add_file(f"{writer.dist_info}/sboms/{name}", path)
