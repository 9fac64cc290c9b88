"""A wheel's contents before any sink sees them: one :class:`WheelPayload` per target.

:func:`wheel_payload` is the one place that decides what goes into a wheel
(the compiled module at its dotted path, Python sources, stubs, cffi/uniffi
glue, binaries, data and ``include`` files, the ``.dist-info`` files) and,
on Linux, what the audit makes of it (platform tags, repaired copies). Its
sinks read the payload and decide nothing: the wheel writer
(:func:`maturin_nox.wheel.write_payload`), the installer that writes the
files into an environment (:mod:`maturin_nox.install`), and the editable
form (:func:`editable`), which places generated files beside the sources and
serves the rest through a ``.pth``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

from . import layout, sbom
from .cargo import CargoOutput
from .common import Source
from .errors import AuditError, BuildError
from .plan import BuildTarget, Plan
from .project import Project
from .wheel import data_dir_name, dist_info_name, escape_name, wheel_filename

__all__ = [
    "NATIVE_SUFFIXES",
    "Editable",
    "WheelPayload",
    "cdylib",
    "dist_info_files",
    "editable",
    "wheel_payload",
]

log = logging.getLogger("maturin_nox")

NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


@dataclass(frozen=True)
class WheelPayload:
    """Everything one wheel holds, by archive name, before it is zipped or installed."""

    name: str
    version: str
    tags: Tuple[str, ...]  # single tags, e.g. cp312-cp312-manylinux_2_17_x86_64
    files: Mapping[str, Source]  # payload files (a path on disk, or bytes)
    dist_info: Mapping[str, bytes]  # METADATA, entry_points.txt, licenses/, sboms/ by relative path
    executables: FrozenSet[str] = frozenset()
    policy: Optional[str] = None  # the manylinux/musllinux policy the audit chose, if any
    tag: str = ""  # python-abi-platform, compressed (the file name's part)

    @property
    def dist_info_dir(self) -> str:
        """The ``{name}-{version}.dist-info`` folder name."""
        return dist_info_name(self.name, self.version)

    @property
    def data_dir(self) -> str:
        """The ``{name}-{version}.data`` folder name."""
        return data_dir_name(self.name, self.version)

    @property
    def filename(self) -> str:
        """The wheel's PEP 427 file name."""
        return wheel_filename(self.name, self.version, self.tags)


@dataclass(frozen=True)
class Editable:
    """An editable install: what goes into the environment, and what goes beside the sources."""

    payload: WheelPayload  # the .pth, data files, dist-info; never the project's own sources
    in_tree: Mapping[Path, Source] = field(default_factory=dict)  # generated files -> the tree

    @property
    def extension(self) -> Optional[Path]:
        """The native library placed in the source tree, if any."""
        return next((p for p in self.in_tree if p.name.endswith(NATIVE_SUFFIXES)), None)


def dist_info_files(
    project: Project,
    sbom_include: Sequence[str] = (),
    path_remap: Optional[Tuple[str, str]] = None,
) -> Dict[str, bytes]:
    """The .dist-info files besides WHEEL and RECORD, by path inside .dist-info.

    ``sbom_include`` are the SBOM files to add (``Plan.sbom_include``); without
    them, those of ``[tool.maturin.sbom] include``. ``path_remap`` is a reproducible
    build's (``Plan.path_remap``), applied to the Rust SBOM.
    """
    core = project.metadata
    out: Dict[str, bytes] = {"METADATA": core.metadata_text.encode()}
    if core.entry_points_text:
        out["entry_points.txt"] = core.entry_points_text.encode()
    for relpath, source in core.license_files:
        out[f"licenses/{relpath}"] = source.read_bytes()
    if project.config.sbom_rust:
        out[f"sboms/{sbom.sbom_filename(project)}"] = sbom.rust_sbom(project, path_remap).encode()
    for name, path in sbom.custom_sboms(project, sbom_include or None).items():
        out[f"sboms/{name}"] = path.read_bytes()
    return out


def cdylib(project: Project, output: CargoOutput) -> Path:
    """The shared library cargo built for the project; BuildError when there is none."""
    found = output.cdylib()
    if found is None:
        raise BuildError(
            f"cargo produced no cdylib for {project.crate_name}; check [lib] crate-type in {project.manifest_path}."
        )
    return found


def _module_files(
    plan: Plan, target: BuildTarget, output: CargoOutput, data_dir: str
) -> Tuple[Dict[str, Source], Set[str]]:
    """The files the bindings kind contributes, and which of them are executable."""
    project = plan.project
    kind = project.bindings.kind
    files: Dict[str, Source] = {}
    if kind in ("pyo3", "pyo3-ffi", "rust-cpython"):
        assert target.ext_suffix is not None  # native targets always have one
        ext = layout.extension_arcname(project, target.ext_suffix)
        files[ext] = cdylib(project, output)
        if not project.mixed and "." not in project.module_name:
            files[f"{project.module_name}/__init__.py"] = layout.pure_init(project.module_name)
        files.update(layout.stub_files(project))
        files.update(layout.python_files(project, ext_arcname=ext, editable=plan.editable))
        return files, set()
    if kind == "bin":
        from .binaries import binary_files

        bins, executables = binary_files(project, output.artifacts, data_dir)
        files.update(bins)
        files.update(layout.python_files(project, editable=plan.editable))
        return files, executables
    if kind == "cffi":
        from .cffi import cffi_files

        dirs = [plan.user_target_dir] if plan.user_target_dir else []
        glue = cffi_files(project, target, cdylib(project, output), target_dirs=dirs)
    else:
        from .uniffi import uniffi_files

        glue = uniffi_files(
            project,
            target,
            cdylib(project, output),
            target_dir=plan.target_dir(target),
            profile=plan.profile,
        )
    return layout.python_files_with_glue(project, glue, editable=plan.editable), set()


def wheel_payload(
    plan: Plan,
    target: BuildTarget,
    output: CargoOutput,
    *,
    dist_info: Mapping[str, bytes],
    workdir: Optional[Path] = None,
    audit: bool = True,
) -> WheelPayload:
    """The wheel of one target: its files by archive name, audited (and repaired) on Linux.

    Repaired copies of libraries are written into ``workdir``, which must outlive
    the payload's use. ``audit=False`` (develop installs) keeps the plain platform tag.
    """
    project = plan.project
    data_dir = data_dir_name(project.name, project.version)
    files, executables = _module_files(plan, target, output, data_dir)
    if plan.include_debuginfo:
        files.update(_debuginfo(project, output, files))
    if plan.generate_stubs:  # after the Python sources: the stubs' precedence is checked there
        from .stubs import introspection_stubs

        files.update(introspection_stubs(project, target, files, replace=plan.editable))
    files.update(layout.data_files(project, data_dir))
    files.update(layout.include_files(project, "wheel"))
    if project.config.out_dir_includes:
        files.update(layout.out_dir_files(project, _out_dirs_by_name(project, output)))
    platforms: List[str] = [plan.platform(target)]
    policy: Optional[str] = None
    dist_info = dict(dist_info)
    if audit and plan.audits:
        assert workdir is not None, "an audited payload needs a folder for repaired copies"
        cache = plan.target_dir(target) / "audit-cache.json"
        platforms, policy, files, grafted = _audited(
            plan, files, workdir, output.linked_paths, platforms[0], cache
        )
        if grafted and project.config.sbom_auditwheel is not False:
            bom = sbom.auditwheel_sbom(project, grafted)
            if bom is not None:
                dist_info[sbom.AUDITWHEEL_SBOM] = bom.encode()
    tags = tuple(target.tags(platforms))
    tag = "-".join([target.python_tag, target.abi_tag, ".".join(platforms)])
    return WheelPayload(
        project.name,
        project.version,
        tags,
        files,
        dist_info,
        frozenset(executables),
        policy,
        tag,
    )


def _out_dirs_by_name(project: Project, output: CargoOutput) -> Dict[str, Path]:
    """The OUT_DIRs of this build's build scripts, by package name (as maturin keys them)."""
    names = {str(p["id"]): str(p["name"]) for p in project.cargo_metadata.get("packages", [])}
    return {names[pid]: path for pid, path in output.out_dirs if pid in names}


def _audited(
    plan: Plan,
    files: Dict[str, Source],
    workdir: Path,
    lib_dirs: Sequence[Path],
    plain: str,
    cache: Path,
) -> Tuple[List[str], Optional[str], Dict[str, Source], List[Path]]:
    """Platform tags from the audit, the files after any repair, and the libraries grafted.

    A verdict that needed no repair is kept in ``cache`` under the state of the
    libraries it read (path, size, mtime, inode) and the settings it was made with,
    so an unchanged library is not read again (nor the ELF reader imported).
    """
    elf_files = [
        p for p in files.values() if isinstance(p, Path) and p.suffix != ".dwp" and _is_elf(p)
    ]
    libs_dir = f"{escape_name(plan.project.name)}.libs"
    key = _audit_key(plan, elf_files, plain, libs_dir, lib_dirs)
    kept = _cached_verdict(cache, key)
    grafted: List[Path] = []
    if kept is not None:
        tags, policy, messages = kept
        for message in messages:
            log.warning(message)
    else:
        from .audit import apply_repair, decide_platform

        decision = decide_platform(
            elf_files,
            compatibility=plan.compatibility,
            mode=plan.audit_mode,  # type: ignore[arg-type]
            libs_dir=libs_dir,
            zig=plan.zig,
            platform_tag=plain,
            lib_dirs=list(lib_dirs),
        )
        for message in decision.messages:
            log.warning(message)
        tags, policy = list(decision.platform_tags), decision.policy
        if decision.grafts:
            elf_map = {a: p for a, p in files.items() if isinstance(p, Path) and p in elf_files}
            files = {**files, **apply_repair(decision, elf_map, workdir=workdir)}
            grafted = [g.source for g in decision.grafts]
        elif key is not None:
            _store_verdict(cache, key, tags, policy, decision.messages)
    return _with_extra_policies(plan, tags, policy, plain), policy, files, grafted


def _with_extra_policies(
    plan: Plan, platforms: List[str], policy: Optional[str], plain: str
) -> List[str]:
    """The audited tags plus the further --compatibility policies; pypi refuses a linux tag."""
    platforms = list(platforms)
    if plan.extra_policies and policy not in ("", "linux"):
        # further --compatibility policies: newer than the audited one, so met with it
        for name in plan.extra_policies:
            platforms += [t for t in _policy_tags(name, plain) if t not in platforms]
    if plan.pypi and any(p.startswith("linux_") for p in platforms):
        raise AuditError(
            f"--compatibility pypi: the wheel would be tagged {'.'.join(platforms)}, "
            "which PyPI refuses."
        )
    return platforms


def _policy_tags(name: str, plain: str) -> Tuple[str, ...]:
    """The platform tags of a policy for the architecture of ``plain`` (``linux_<arch>``)."""
    from .audit import policy_by_name
    from .errors import ConfigError

    arch = plain[len("linux_") :]
    libc = "musl" if name.startswith("musllinux") else "glibc"
    try:
        return policy_by_name(name, libc, arch).tags()
    except ConfigError:  # a policy newer than the ones we know: its PEP 600 tag alone
        return (f"{name}_{arch}",)


def _debuginfo(
    project: Project, output: CargoOutput, files: Mapping[str, Source]
) -> Dict[str, Source]:
    """The library's packed debug info (``.dwp``), beside the library in the wheel, as maturin puts it."""
    library = output.cdylib()
    dwp = output.debuginfo()
    if library is None or dwp is None:
        log.warning(
            "--include-debuginfo: cargo reported no .dwp file for the library "
            "(is split-debuginfo set to something other than packed in the cargo config?)."
        )
        return {}
    where = next((a for a, source in files.items() if source == library), None)
    if where is None:
        return {}
    folder = where.rsplit("/", 1)[0] + "/" if "/" in where else ""
    return {folder + dwp.name: dwp}


def _audit_key(
    plan: Plan, elf_files: Sequence[Path], plain: str, libs_dir: str, lib_dirs: Sequence[Path]
) -> Optional[str]:
    from . import __version__

    parts: List[object] = [
        __version__,
        _audit_code_state(),
        plan.compatibility,
        plan.audit_mode,
        plan.zig,
        plain,
        libs_dir,
        [str(d) for d in lib_dirs],
    ]
    for path in elf_files:
        try:
            st = path.stat()
        except OSError:
            return None
        parts.append([str(path), st.st_size, st.st_mtime_ns, st.st_ino])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def _audit_code_state() -> Tuple[Tuple[str, int, int], ...]:
    """The audit's own files (size, mtime): a checkout's edit to them is a new auditor.
    Read once per process: the code running does not change under it."""
    folder = Path(__file__).parent / "audit"
    state = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".py", ".json"):
            st = path.stat()
            state.append((path.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(state)


def _cached_verdict(
    cache: Path, key: Optional[str]
) -> Optional[Tuple[List[str], Optional[str], List[str]]]:
    if key is None:
        return None
    try:
        record = json.loads(cache.read_text(encoding="utf-8"))
        if record.get("key") != key:
            return None
        return list(record["tags"]), record["policy"], list(record["messages"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _store_verdict(
    cache: Path, key: str, tags: Sequence[str], policy: Optional[str], messages: Sequence[str]
) -> None:
    from .atomic import write_text_atomic

    record = {"key": key, "tags": list(tags), "policy": policy, "messages": list(messages)}
    try:
        write_text_atomic(cache, json.dumps(record))
    except OSError:
        pass  # only an optimisation


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _same_place(source: Source, place: Path) -> bool:
    """Whether a payload file is the project's own file at ``place`` (served by the .pth)."""
    if not isinstance(source, Path):
        return False
    try:
        return source.resolve() == place.resolve()
    except OSError:
        return False


def editable(project: Project, payload: WheelPayload) -> Editable:
    """The editable form of a mixed project's payload (a pure Rust project installs as is).

    The python-source folder goes on ``sys.path`` through a ``.pth`` file, as
    maturin names it, so the sources are live; what the build generated inside
    the package (the extension module, cffi/uniffi glue) is placed beside them.
    Everything else (data, scripts, files outside the package) is installed.
    """
    if not project.mixed:
        return Editable(payload)
    top = project.module_name.split(".")[0] + "/"
    kept: Dict[str, Source] = {}
    in_tree: Dict[Path, Source] = {}
    for arcname, source in payload.files.items():
        place = project.python_source / arcname
        if _same_place(source, place):
            continue  # the project's own file: served from the source tree
        if arcname.startswith(top):
            in_tree[place] = source
            continue
        kept[arcname] = source
    kept[f"{escape_name(project.name)}.pth"] = str(project.python_source.resolve()).encode()
    executables = frozenset(a for a in payload.executables if a in kept)
    installed = WheelPayload(
        payload.name,
        payload.version,
        payload.tags,
        kept,
        payload.dist_info,
        executables,
        payload.policy,
        payload.tag,
    )
    return Editable(installed, in_tree)
