"""Building wheels: plan -> cargo output -> payload -> wheel, for every target.

This is the whole path of a ``maturin-nox build`` (and of the backend, the nox
sessions and the tox plugin, which all call :func:`build` or
:func:`build_plan`)::

    project = load_project(...)             # cargo metadata, once
    plan = resolve_plan(project, options)   # every setting resolved, one target per wheel
    output = compile_target(plan, target)   # cargo, its artifacts from JSON messages
    payload = wheel_payload(plan, target, output, ...)   # files by archive name, audited
    write_payload(payload, staging)         # the .whl, renamed into place at the end

Wheels are staged in a hidden folder inside the output folder and moved into
place only when every target built, so a failed or interrupted build leaves
no wheel behind. A stamp in each target's cargo folder records a digest of
the payload that made the wheel in the output folder; when the next build's
payload has the same digest and the wheel is untouched, it is kept as is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, List, Mapping, Optional, Tuple

from . import cargo, faults, pyo3_config
from .atomic import write_text_atomic
from .errors import BuildError
from .interpreters import Interpreter
from .locks import exclusive
from .options import BuildOptions, merge_options
from .payload import WheelPayload, dist_info_files, wheel_payload
from .plan import BuildTarget, Plan, bin_names, cargo_command, cargo_env, resolve_plan
from .project import Project, load_project
from .staging import staging_dir
from .wheel import write_payload

__all__ = [
    "BuildOptions",
    "BuiltWheel",
    "build",
    "build_plan",
    "compile_target",
    "open_project",
    "target_lock",
]

log = logging.getLogger("maturin_nox")


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel on disk and what it is for."""

    path: Path
    tag: str
    target: BuildTarget
    interpreters: Tuple[Interpreter, ...] = field(default=())
    policy: Optional[str] = None
    reused: bool = False  # the wheel already in the output folder was kept: nothing was written

    @property
    def abi3(self) -> bool:
        """Whether the wheel targets the stable ABI (one wheel for many interpreters)."""
        return self.target.abi3


def open_project(options: BuildOptions) -> Project:
    """Load the project the options point at (runs ``cargo metadata`` once)."""
    return load_project(
        options.manifest_path,
        cwd=options.cwd,
        bindings=options.bindings,
        features=options.features,
        all_features=options.all_features,
        no_default_features=options.no_default_features,
    )


def build(
    options: Optional[BuildOptions] = None,
    /,
    *,
    project: Optional[Project] = None,
    **kwargs: Any,
) -> List[BuiltWheel]:
    """Build the project's wheels, one per interpreter (or one abi3/py3 wheel).

    ``project`` is the already-loaded project the options point at, for callers
    that read it first (then ``cargo metadata`` runs once in all).
    """
    opts = merge_options(options, kwargs)
    project = project or open_project(opts)
    abi = " (abi3)" if project.bindings.abi3 else ""
    log.info(f"🔗 Found {project.bindings.kind} bindings{abi}")
    return build_plan(resolve_plan(project, opts))


@dataclass(frozen=True)
class _Staged:
    """A target's wheel in the staging folder (or the kept one), and the stamp to write for it."""

    wheel: BuiltWheel
    digest: Optional[str] = None
    stamp: Optional[Path] = None


def build_plan(plan: Plan) -> List[BuiltWheel]:
    """Build every target of the plan and move the wheels into the output folder together."""
    out_dir = plan.out_dir
    dist_info = dist_info_files(plan.project)  # the same for every target
    with staging_dir(out_dir) as staging:

        def one(target: BuildTarget) -> _Staged:
            return _build_target(plan, target, staging, dist_info)

        if plan.jobs == 1:
            staged = [one(t) for t in plan.targets]
        else:
            with ThreadPoolExecutor(max_workers=plan.jobs) as pool:
                futures = [pool.submit(one, t) for t in plan.targets]
                try:
                    staged = [f.result() for f in futures]
                except BaseException:
                    _stop(futures)
                    raise
        faults.point("build:staged")
        built = []
        for index, item in enumerate(staged):
            if index:
                faults.point("build:moving")
            wheel = item.wheel
            final = out_dir / wheel.path.name
            if not wheel.reused:
                os.replace(wheel.path, final)
                _write_stamp(item, final)
            built.append(dataclasses.replace(wheel, path=final))
            note = " (unchanged)" if wheel.reused else ""
            log.info(f"📦 Built wheel{_for(wheel)} to {final}{note}")
        return built


def _stop(futures: List[Future[_Staged]]) -> None:
    """Stop the other targets and wait for them, so nothing writes into staging once it goes.

    A second Ctrl-C while waiting only stops cargo again: the wait goes on.
    """
    for future in futures:
        future.cancel()
    while True:
        cargo.stop_all()
        try:
            wait(futures)
            return
        except KeyboardInterrupt:
            continue


def _for(wheel: BuiltWheel) -> str:
    if wheel.abi3:
        kind = wheel.target.abi_tag.split(".")[-1]  # abi3, or abi3t for "abi3.abi3t"
        return f" for {kind} Python ≥ {wheel.target.python_tag[2]}.{wheel.target.python_tag[3:]}"
    if wheel.target.interpreter is not None and wheel.target.abi_tag != "none":
        i = wheel.target.interpreter
        return f" for {i.implementation.replace('cpython', 'CPython').replace('pypy', 'PyPy')} {i.major}.{i.minor}"
    return ""


def compile_target(plan: Plan, target: BuildTarget) -> cargo.CargoOutput:
    """Run cargo for one target and return what it built for the project's own package."""
    project = plan.project
    target_dir = plan.target_dir(target)
    _claim_target_dir(project, target_dir)
    output = cargo.CargoOutput()
    env = {
        **cargo_env(project, target, editable=plan.editable),
        **pyo3_config.config_env(plan, target),
    }
    for bin_name in bin_names(project, strip=plan.strip):  # [None] unless bins need rustc args
        cmd = cargo_command(plan, target, cargo=cargo.cargo_executable(), bin_name=bin_name)
        run_env = env
        if plan.zig:
            from .audit import zig_build_command

            cmd, zig_env = zig_build_command(cmd)
            run_env = {**env, **zig_env}
        output += cargo.run_build(
            cmd, env=run_env, cwd=project.manifest_path.parent, quiet=plan.quiet
        )
    own = output.of_package(str(project.package["id"]))
    if not own.artifacts:
        raise BuildError(f"cargo built nothing for {project.crate_name} ({project.manifest_path}).")
    return own


def _claim_target_dir(project: Project, target_dir: Path) -> None:
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


def target_lock(plan: Plan, target: BuildTarget) -> ContextManager[None]:
    """Hold a target's build configuration for one process: from cargo until its outputs are read.

    Cargo serialises its own runs on a target dir, but between one run's end and
    the wheel being written another process's cargo could replace the library.
    """
    target_dir = plan.target_dir(target)
    return exclusive(target_dir.with_name(target_dir.name + ".lock"))


def _build_target(
    plan: Plan, target: BuildTarget, staging: Path, dist_info: Mapping[str, bytes]
) -> _Staged:
    """Compile one target and stage its wheel, or keep the wheel the same inputs made last time."""
    with target_lock(plan, target):
        return _build_locked(plan, target, staging, dist_info)


def _build_locked(
    plan: Plan, target: BuildTarget, staging: Path, dist_info: Mapping[str, bytes]
) -> _Staged:
    output = compile_target(plan, target)
    stamp = plan.target_dir(target) / "wheel-stamp.json"
    with tempfile.TemporaryDirectory(prefix="maturin-nox-repair-") as workdir:
        payload = wheel_payload(plan, target, output, dist_info=dist_info, workdir=Path(workdir))
        digest = _digest(payload, Path(workdir))
        kept = _reusable(stamp, digest, plan.out_dir)
        serves = target.serves
        if kept is not None:
            return _Staged(BuiltWheel(kept, payload.tag, target, serves, payload.policy, True))
        path = write_payload(payload, staging)
    return _Staged(BuiltWheel(path, payload.tag, target, serves, payload.policy), digest, stamp)


def _digest(payload: WheelPayload, workdir: Path) -> Optional[str]:
    """A digest of everything that goes into the wheel (files by path, size and mtime)."""
    from . import __version__

    digest = hashlib.sha256()
    for part in (__version__, os.environ.get("SOURCE_DATE_EPOCH", ""), *payload.tags):
        digest.update(part.encode() + b"\0")
    for arcname in sorted(payload.files):
        source = payload.files[arcname]
        executable = arcname in payload.executables
        digest.update(arcname.encode() + (b"\1" if executable else b"\0"))
        if isinstance(source, bytes):
            digest.update(hashlib.sha256(source).digest())
        else:
            if workdir in source.parents:
                return None  # repaired copies are new files every time
            st = source.stat()
            digest.update(f"{source}|{st.st_size}|{st.st_mtime_ns}".encode())
    for relpath in sorted(payload.dist_info):
        data = payload.dist_info[relpath]
        digest.update(relpath.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _reusable(stamp: Path, digest: Optional[str], out_dir: Path) -> Optional[Path]:
    """The wheel the stamp vouches for, if it is still in the output folder untouched."""
    if digest is None:
        return None
    try:
        data = json.loads(stamp.read_text())
        wheel = Path(data["wheel"])
        st = wheel.stat()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (
        data.get("fingerprint") == digest
        and wheel.parent == out_dir
        and [st.st_size, st.st_mtime_ns] == [data.get("size"), data.get("mtime_ns")]
    ):
        return wheel
    return None


def _write_stamp(item: _Staged, final: Path) -> None:
    if item.digest is None or item.stamp is None:
        return
    st = final.stat()
    record = {
        "fingerprint": item.digest,
        "wheel": str(final),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }
    try:
        write_text_atomic(item.stamp, json.dumps(record))
    except OSError:
        pass  # only an optimisation
