"""Building wheels: project -> targets -> cargo artifacts -> files -> audit -> wheel.

This is the whole path of a ``maturin-nox build`` (and of the backend, the nox
sessions and the tox plugin, which all call :func:`build`). Wheels are staged
in a hidden folder inside the output folder and moved into place only when
every target built, so a failed or interrupted build leaves no wheel behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from . import cargo, layout, sbom, sccache
from .atomic import write_text_atomic
from .errors import BuildError
from .interpreters import Interpreter, select
from .plan import (
    BuildTarget,
    bin_names,
    cargo_command,
    cargo_env,
    plan_targets,
    platform_tag,
    resolve_profile,
)
from .project import Project, load_project
from .wheel import WheelWriter, data_dir_name, escape_name

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
    sccache: Optional[bool] = None  # None: MATURIN_NOX_SCCACHE, [tool.maturin-nox], RUSTC_WRAPPER

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
    reused: bool = False
    fingerprint: Optional[str] = field(default=None, repr=False, compare=False)
    stamp: Optional[Path] = field(default=None, repr=False, compare=False)

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
        from .binaries import links_python

        if not links_python(project):  # a binary embedding Python is built per interpreter
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
    dist_info = dist_info_files(project)  # the same for every target

    def one(target: BuildTarget) -> BuiltWheel:
        return build_target(project, target, opts, staging, out_dir, dist_info)

    try:
        jobs = max(1, min(len(targets), opts.jobs or os.cpu_count() or 1))
        if jobs == 1:
            staged = [one(t) for t in targets]
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                staged = list(pool.map(one, targets))
        built = []
        for wheel in staged:
            final = out_dir / wheel.path.name
            if not wheel.reused:
                os.replace(wheel.path, final)
                _write_stamp(wheel, final)
            built.append(dataclasses.replace(wheel, path=final))
            note = " (unchanged)" if wheel.reused else ""
            log.info(f"📦 Built wheel{_for(wheel)} to {final}{note}")
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


def compile_target(project: Project, target: BuildTarget, options: BuildOptions) -> cargo.Artifacts:
    """Run cargo for one target and return the artifacts of the project's own package."""
    profile = resolve_profile(project, release=options.release, profile=options.profile)
    strip = project.config.strip if options.strip is None else options.strip
    artifacts = cargo.Artifacts()
    _claim_target_dir(project, target_dir_for(project, target, options), profile)
    # sccache hook: wraps rustc when on, logs the cache's hits and misses afterwards
    with sccache.measured(project, options.sccache, profile, target) as compiler_cache:
        for bin_name in bin_names(project, strip=strip):  # [None] unless bins need rustc args
            cmd = cargo_command(
                project,
                cargo=cargo.cargo_executable(),
                profile=profile,
                target_dir=target_dir_for(project, target, options),
                strip=strip,
                cargo_args=options.cargo_args,
                bin_name=bin_name,
            )
            env = compiler_cache.env(cargo_env(project, target))
            zig = options.zig or project.config.zig
            if zig:
                from .audit import zig_build_command

                cmd, zig_env = zig_build_command(cmd)
                env.update(zig_env)
            result = cargo.run_build(
                cmd, env=env, cwd=project.manifest_path.parent, quiet=options.quiet
            )
            artifacts.extend(result)
            artifacts.linked_paths += [
                p for p in result.linked_paths if p not in artifacts.linked_paths
            ]
    own = cargo.Artifacts()
    own.extend(a for a in artifacts if a.package_id == project.package["id"])
    own.linked_paths = list(getattr(artifacts, "linked_paths", []))
    if not own:
        raise BuildError(f"cargo built nothing for {project.crate_name} ({project.manifest_path}).")
    return own


def _claim_target_dir(project: Project, target_dir: Path, profile: str) -> None:
    """Make sure a shared target dir holds no same-named crate from another checkout.

    A cdylib's file name carries no hash, so two copies of one crate sharing a
    target dir write the same file, and cargo may call one copy fresh while the
    file holds the other's build. The dir records which manifest last built each
    crate; on a change of owner only that crate is cleaned (its dependencies stay).
    """
    # beside the target dir, not in it: a dir cargo did not create gets no CACHEDIR.TAG
    owners_file = target_dir.with_name(target_dir.name + ".owners.json")
    try:
        owners = json.loads(owners_file.read_text())
    except (OSError, ValueError):
        owners = {}
    name, manifest = project.crate_name, str(project.manifest_path)
    if owners.get(name) == manifest:
        return
    if name in owners:
        log.debug("Cleaning %s in %s: last built from %s", name, target_dir, owners[name])
        cmd = [cargo.cargo_executable(), "clean", "-q", "-p", name, "--manifest-path", manifest]
        cmd += ["--target-dir", str(target_dir), *project.cargo_flags()]
        subprocess.run(cmd, capture_output=True)
    owners[name] = manifest
    write_text_atomic(owners_file, json.dumps(owners, indent=1, sort_keys=True))


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
    project: Project,
    target: BuildTarget,
    options: BuildOptions,
    out_dir: Path,
    final_dir: Optional[Path] = None,
    dist_info: Optional[Dict[str, bytes]] = None,
) -> BuiltWheel:
    """Compile one target and write its wheel into ``out_dir``.

    When ``final_dir`` already holds the wheel these exact inputs produced last
    time (a stamp in the target's cargo folder records it), the wheel is reused
    instead of deflating the same library again.
    """
    artifacts = compile_target(project, target, options)
    data_dir = data_dir_name(project.name, project.version)
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

        cdylib = _cdylib(project, artifacts)
        dirs = [options.target_dir] if options.target_dir else []
        glue = cffi_files(project, target, cdylib, target_dirs=dirs)
        files.update(layout.python_files_with_glue(project, glue))
    elif kind == "bin":
        from .binaries import binary_files

        bins, executables = binary_files(project, artifacts, data_dir)
        files.update(bins)
        files.update(layout.python_files(project))
    else:
        from .uniffi import uniffi_files

        glue = uniffi_files(
            project,
            target,
            _cdylib(project, artifacts),
            target_dir=target_dir_for(project, target, options),
            profile=resolve_profile(project, release=options.release, profile=options.profile),
        )
        files.update(layout.python_files_with_glue(project, glue))
    files.update(layout.data_files(project, data_dir))
    files.update(layout.include_files(project, "wheel"))
    if dist_info is None:
        dist_info = dist_info_files(project)
    stamp = target_dir_for(project, target, options) / "wheel-stamp.json"
    with tempfile.TemporaryDirectory(prefix="maturin-nox-repair-") as workdir:
        platforms, policy, files = _platform(
            project, target, options, files, Path(workdir), artifacts.linked_paths
        )
        tags = [target.tag(p) for p in platforms]
        tag = "-".join([target.python_tag, target.abi_tag, ".".join(platforms)])
        fingerprint = _fingerprint(files, executables, tags, dist_info, Path(workdir))
        reused = _reusable(stamp, fingerprint, final_dir)
        if reused is not None:
            return BuiltWheel(reused, tag, target, target.serves, policy, reused=True)
        writer = WheelWriter(out_dir, project.name, project.version, tags)
        for arcname in sorted(files):
            source = files[arcname]
            if isinstance(source, bytes):
                writer.add_bytes(arcname, source, executable=arcname in executables)
            else:
                writer.add_file(
                    arcname, source, executable=True if arcname in executables else None
                )
    for relpath, data in dist_info.items():
        writer.add_dist_info(relpath, data)
    path = writer.finish()
    return BuiltWheel(
        path, tag, target, target.serves, policy, fingerprint=fingerprint, stamp=stamp
    )


def _fingerprint(
    files: Dict[str, layout.Source],
    executables: Set[str],
    tags: Sequence[str],
    dist_info: Dict[str, bytes],
    workdir: Path,
) -> Optional[str]:
    """A digest of everything that goes into the wheel (files by path, size and mtime)."""
    from . import __version__

    digest = hashlib.sha256()
    for part in (__version__, os.environ.get("SOURCE_DATE_EPOCH", ""), *tags):
        digest.update(part.encode() + b"\0")
    for arcname in sorted(files):
        source = files[arcname]
        digest.update(arcname.encode() + (b"\1" if arcname in executables else b"\0"))
        if isinstance(source, bytes):
            digest.update(hashlib.sha256(source).digest())
        else:
            if workdir in source.parents:
                return None  # repaired copies are new files every time
            st = source.stat()
            digest.update(f"{source}|{st.st_size}|{st.st_mtime_ns}".encode())
    for relpath in sorted(dist_info):
        digest.update(relpath.encode() + b"\0" + hashlib.sha256(dist_info[relpath]).digest())
    return digest.hexdigest()


def _reusable(stamp: Path, fingerprint: Optional[str], final_dir: Optional[Path]) -> Optional[Path]:
    """The wheel the stamp vouches for, if it is still there untouched."""
    if fingerprint is None or final_dir is None:
        return None
    try:
        data = json.loads(stamp.read_text())
        wheel = Path(data["wheel"])
        st = wheel.stat()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (
        data.get("fingerprint") == fingerprint
        and wheel.parent == final_dir
        and [st.st_size, st.st_mtime_ns] == [data.get("size"), data.get("mtime_ns")]
    ):
        return wheel
    return None


def _write_stamp(wheel: BuiltWheel, final: Path) -> None:
    if wheel.fingerprint is None or wheel.stamp is None:
        return
    st = final.stat()
    record = {
        "fingerprint": wheel.fingerprint,
        "wheel": str(final),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }
    try:
        write_text_atomic(wheel.stamp, json.dumps(record))
    except OSError:
        pass  # only an optimisation


def _platform(
    project: Project,
    target: BuildTarget,
    options: BuildOptions,
    files: Dict[str, layout.Source],
    workdir: Path,
    lib_dirs: Sequence[Path] = (),
) -> Tuple[List[str], Optional[str], Dict[str, layout.Source]]:
    """Platform tags from the audit (Linux), and the files after any repair."""
    plain = platform_tag(target.interpreter)
    if not sys.platform.startswith("linux") or (
        project.config.target and "linux" not in project.config.target
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
        platform_tag=plain,
        lib_dirs=list(lib_dirs),
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


def dist_info_files(project: Project) -> Dict[str, bytes]:
    """The .dist-info files besides WHEEL and RECORD, by path inside .dist-info."""
    core = project.metadata
    out: Dict[str, bytes] = {"METADATA": core.metadata_text.encode()}
    if core.entry_points_text:
        out["entry_points.txt"] = core.entry_points_text.encode()
    for relpath, source in core.license_files:
        out[f"licenses/{relpath}"] = source.read_bytes()
    if project.config.sbom_rust:
        out[f"sboms/{sbom.sbom_filename(project)}"] = sbom.rust_sbom(project).encode()
    for name, path in sbom.custom_sboms(project).items():
        out[f"sboms/{name}"] = path.read_bytes()
    return out
