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

import contextvars
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
    Callable,
    ContextManager,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Set,
    Tuple,
)

from . import cargo, faults, jobserver, pyo3_config, sccache, seeding
from .atomic import write_text_atomic
from .compression import Compression
from .crate_graph import interpreter_independent, platform_of
from .errors import BuildError, MaturinNoxError
from .freshness import cargo_configs, changed, dep_info_inputs, env_digest, project_inputs, states
from .interpreters import Interpreter
from .locks import exclusive
from .options import BuildOptions, merge_options
from .payload import WheelPayload, dist_info_files, wheel_payload
from .plan import BuildTarget, Plan, bin_names, cargo_command, cargo_env, resolve_plan
from .project import Project, load_project
from .seeding import pick_source, seed, seed_from_running
from .staging import staging_dir
from .toml import load_toml
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
        target=options.target,
        frozen=options.frozen,
        locked=options.locked,
        offline=options.offline,
        config=options.config,
        unstable_flags=options.unstable_flags,
    )


def build(
    options: Optional[BuildOptions] = None,
    /,
    *,
    project: Optional[Project] = None,
    dist_info: Optional[Mapping[str, bytes]] = None,
    **kwargs: Any,
) -> List[BuiltWheel]:
    """Build the project's wheels, one per interpreter (or one abi3/py3 wheel).

    ``project`` is the already-loaded project the options point at, for callers
    that read it first (then ``cargo metadata`` runs once in all); ``dist_info``
    the .dist-info files to use as they are (a PEP 517 frontend's prepared metadata).
    """
    opts = merge_options(options, kwargs)
    project = project or open_project(opts)
    abi = " (abi3)" if project.bindings.abi3 else ""
    log.info(f"🔗 Found {project.bindings.kind} bindings{abi}")
    return build_plan(resolve_plan(project, opts), dist_info=dist_info)


@dataclass(frozen=True)
class _Staged:
    """A target's wheel in the staging folder (or the kept one), and the stamp to write for it."""

    wheel: BuiltWheel
    digest: Optional[str] = None
    stamp: Optional[Path] = None


def build_plan(plan: Plan, *, dist_info: Optional[Mapping[str, bytes]] = None) -> List[BuiltWheel]:
    """Build every target of the plan and move the wheels into the output folder together."""
    out_dir = plan.out_dir
    if dist_info is None:
        dist_info = dist_info_files(
            plan.project, plan.sbom_include, plan.path_remap
        )  # the same for every target
    with staging_dir(out_dir) as staging:

        def one(target: BuildTarget) -> _Staged:
            return _build_target(plan, target, staging, dist_info)

        together = plan.interpreter_jobs > 1 and len(plan.targets) > 1
        with jobserver.shared(_user_jobs(plan)) if together else nullcontext():
            staged = _build_all(plan, one)
        order = {t.key: i for i, t in enumerate(plan.targets)}
        staged.sort(key=lambda item: order[item.wheel.target.key])
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


def _build_all(plan: Plan, one: Callable[[BuildTarget], _Staged]) -> List[_Staged]:
    first, rest = _phases(plan)
    independent = _independent(plan) if first and plan.interpreter_jobs > 1 else None
    if first and independent:
        return _cold_matrix(plan, first[0], rest, independent, one)
    staged = [one(t) for t in first]  # the configuration the others are seeded from
    if plan.interpreter_jobs == 1 or len(rest) < 2:
        return staged + [one(t) for t in rest]
    with ThreadPoolExecutor(max_workers=plan.interpreter_jobs) as pool:
        futures = [_submit(pool, one, t) for t in rest]
        try:
            return staged + [f.result() for f in futures]
        except BaseException:
            _stop(futures)
            raise


def _submit(pool: ThreadPoolExecutor, fn: Callable[..., _Staged], *args: Any) -> Future[_Staged]:
    """Run ``fn`` in the pool with this thread's context (the build's jobserver)."""
    return pool.submit(contextvars.copy_context().run, fn, *args)


def _user_jobs(plan: Plan) -> Optional[int]:
    """cargo's job count when the user chose one (then the cargos do not share slots):
    ``-j``, ``--config build.jobs=N`` or ``build.jobs`` in a cargo configuration file.
    0 when chosen but not a number here (``default``)."""
    args = list(plan.build_flags) + list(plan.cargo_args)
    for index, arg in enumerate(args):
        value = None
        if arg in ("-j", "--jobs", "--config") and index + 1 < len(args):
            value = args[index + 1]
            if arg == "--config":
                value = value.split("=", 1)[1] if value.startswith("build.jobs") else None
        elif arg.startswith(("-j", "--jobs=", "--config=build.jobs")):
            value = arg[2:] if arg.startswith("-j") else arg.split("=")[-1]
        if value is not None:
            return int(value) if value.strip().lstrip("-").isdigit() else 0
    for config in cargo_configs(plan.project.manifest_path.parent):
        if not config.is_file():
            continue
        try:
            build = load_toml(config).get("build")
        except MaturinNoxError:  # cargo says what is wrong with it
            continue
        jobs = build.get("jobs") if isinstance(build, dict) else None
        if jobs is not None:
            return jobs if isinstance(jobs, int) else 0
    return None


def _seeding() -> bool:
    return seeding.mode() != "off"


def _profile_folder(profile: str) -> str:
    """The folder of a target dir that cargo writes a profile's units into."""
    return {"dev": "debug", "test": "debug", "bench": "release"}.get(profile, profile)


def _seed_cold(plan: Plan, target_dir: Path) -> None:
    """Start a configuration that was never built from a built one, if there is one.

    First a sibling configuration of the project, else another project's build of
    this configuration (its registry and git crates only).
    """
    project = plan.project
    source = pick_source(target_dir, project.crate_name)
    if source is not None:
        log.debug("Starting %s from a copy of %s", target_dir.name, source.name)
        seed(target_dir, source)
        return
    packages = project.cargo_metadata.get("packages", [])
    crates = [str(p["name"]) for p in packages if p.get("source")]
    folder = _profile_folder(plan.profile)
    shared = seeding.seed_shared(target_dir, crates, folder, project.manifest_path.parent)
    if shared is not None:
        log.info("♻️  Starting from the dependencies built for %s", shared)


def _phases(plan: Plan) -> Tuple[List[BuildTarget], List[BuildTarget]]:
    """The targets to build first, alone, and the others (built in parallel).

    When several configurations are cold and no built sibling can seed them,
    one is built first and the others start from a copy of it.
    """
    cold = [t for t in plan.targets if not plan.target_dir(t).exists()]
    if not _seeding() or len(cold) < 2:
        return [], list(plan.targets)
    if pick_source(plan.target_dir(cold[0]), plan.project.crate_name) is not None:
        return [], list(plan.targets)
    return [cold[0]], [t for t in plan.targets if t is not cold[0]]


def _independent(plan: Plan) -> FrozenSet[str]:
    """The package ids of the build that no interpreter setting reaches (for early seeding)."""
    if plan.pgo_command or os.environ.get("MATURIN_NOX_EARLY_SEED") == "0":
        return frozenset()
    project = plan.project
    meta, root = project.cargo_metadata, str(project.package["id"])
    return interpreter_independent(meta, root, platform_of(project.target))


class _Progress:
    """Which of the interpreter-independent packages the first build has finished.

    A package counts as finished when cargo reports its library, or a unit that
    needed it: a library needs its package's dependencies, a build script its
    build-dependencies (then it was built before, or is not built here at all).
    """

    def __init__(self, meta: Mapping[str, Any], pending: FrozenSet[str]) -> None:
        self.deps: Dict[Tuple[str, bool], List[str]] = {}
        for node in (meta.get("resolve") or {}).get("nodes", []):
            for dep in node.get("deps", []):
                kinds = {k.get("kind") for k in dep.get("dep_kinds") or [{}]}
                for build in (True, False):
                    if (build and "build" in kinds) or (not build and kinds - {"build", "dev"}):
                        self.deps.setdefault((str(node["id"]), build), []).append(str(dep["pkg"]))
        self.pending = set(pending)
        self.done: Set[str] = set()
        self.ready = threading.Event()
        self.lock = threading.Lock()

    def saw(self, package_id: str, kinds: Tuple[str, ...]) -> None:
        with self.lock:
            if "custom-build" in kinds:  # the build script: its build-dependencies are built
                stack = list(self.deps.get((package_id, True), []))
            else:
                stack = [package_id]
            while stack:
                pid = stack.pop()
                if pid not in self.done:
                    self.done.add(pid)
                    stack += self.deps.get((pid, False), []) + self.deps.get((pid, True), [])
            self.pending -= self.done
            if not self.pending:
                self.ready.set()


class _Places:
    """How many configurations of a cold matrix build at once, decided once the first
    build's shared crates are done; the first counts from the start."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.running = 1
        self.limit: Optional[int] = None
        self.stopped = False

    def decide(self, limit: int) -> None:
        with self.cond:
            self.limit = limit
            self.cond.notify_all()

    def enter(self) -> bool:
        """Wait for a place; False when the build stopped meanwhile."""
        with self.cond:
            self.cond.wait_for(
                lambda: self.stopped or (self.limit is not None and self.running < self.limit)
            )
            if self.stopped:
                return False
            self.running += 1
            return True

    def leave(self) -> None:
        with self.cond:
            self.running -= 1
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def _cold_matrix(
    plan: Plan,
    first: BuildTarget,
    rest: List[BuildTarget],
    independent: FrozenSet[str],
    one: Callable[[BuildTarget], _Staged],
) -> List[_Staged]:
    """Build a cold matrix: the first configuration alone until its interpreter-independent
    crates are built, then the others beside it, each from a copy of its target folder.

    If the first build ends before that point, the others are seeded from all of it.
    """
    progress = _Progress(plan.project.cargo_metadata, independent)
    source = plan.target_dir(first)
    server = jobserver.active()
    chosen = plan.options.interpreter_jobs if plan.options else None
    # the load beside the build matters (and /proc is read) only where cargos may go
    # to the background: slots shared, and the user did not choose how many build at once
    other = jobserver.OtherLoad() if server is not None and chosen is None else None
    places = _Places()

    def head() -> _Staged:
        try:
            with cargo.progress(progress.saw):
                return one(first)
        finally:
            places.leave()

    def placed(target: BuildTarget) -> _Staged:
        if not places.enter():
            raise BuildError("The build stopped before this interpreter's turn.")
        try:
            return one(target)
        finally:
            places.leave()

    with ThreadPoolExecutor(max_workers=1 + len(rest)) as pool:
        futures = [_submit(pool, head)]
        try:
            while not progress.ready.wait(0.05) and not futures[0].done():
                pass
            places.decide(_together(plan, len(rest), server, other))
            if not futures[0].done():
                # cargo reports an artifact a moment before it writes the unit's fingerprint
                time.sleep(0.05)
                log.debug("Starting the other interpreters from %s while it builds", source.name)
            for target in rest:  # each starts as soon as its copy is made and a place is free
                if futures[0].done():  # a whole copy, under its lock (free now)
                    seed(plan.target_dir(target), source)
                else:
                    seed_from_running(plan.target_dir(target), source)
                futures.append(_submit(pool, placed, target))
            return [f.result() for f in futures]
        except BaseException:
            places.stop()
            _stop(futures)
            raise


def _together(
    plan: Plan,
    others: int,
    server: Optional[jobserver.JobServer],
    other: Optional[jobserver.OtherLoad],
) -> int:
    """How many configurations of a cold matrix build at once.

    Sharing job slots, more than the cores' count can: the cargos beyond it run in
    the background (jobserver.lower_priority), so none is left to build alone at
    the end. At most twice the cores' count (each holds a rustc in memory), and only
    on a machine the build has to itself: behind another program's work a cargo in
    the background would wait for all of it.
    """
    if server is None or other is None:  # no shared slots, or the user chose the count
        return plan.interpreter_jobs
    busy = other.cores()
    alone = busy is not None and busy < 0.5
    log.debug(
        "Other programs kept %s cores busy: %s",
        "?" if busy is None else f"{busy:.2f}",
        "cargos beyond the cores in the background" if alone else "none in the background",
    )
    return min(1 + others, 2 * server.slots) if alone else plan.interpreter_jobs


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
    """Run cargo for one target and return what it built for the project's own package.

    With ``--pgo`` this is the whole three-phase cycle (:mod:`maturin_nox.pgo`):
    the output returned is the optimized build's.
    """
    if plan.pgo_command:
        return _compile_with_pgo(plan, target)
    project = plan.project
    target_dir = plan.target_dir(target)
    if _seeding() and not target_dir.exists():
        _seed_cold(plan, target_dir)
    _claim_target_dir(project, target_dir)
    output = cargo.CargoOutput()
    requested = plan.options.sccache if plan.options is not None else None
    # sccache hook: wraps rustc when on, logs the cache's hits and misses afterwards
    with sccache.measured(project, requested, plan.profile, target) as compiler_cache:
        env = compiler_cache.env(cargo_env(project, target, plan.cross, editable=plan.editable))
        env.update(pyo3_config.config_env(plan, target))  # an interpreter that is not installed
        extra, env_changes = _rustflags(plan, env)
        env.update(env_changes)
        for bin_name in bin_names(plan):  # [None] unless bins need rustc args
            cmd = cargo_command(
                plan, target, cargo=cargo.cargo_executable(), bin_name=bin_name, extra=extra
            )
            run_env = env
            if plan.zig:
                from .audit import zig_build_command

                cmd, zig_env = zig_build_command(cmd)
                run_env = {**env, **zig_env}
            output += _run_cargo(plan, target_dir, cmd, run_env)
    own = output.of_package(str(project.package["id"]))
    if not own.artifacts:
        raise BuildError(f"cargo built nothing for {project.crate_name} ({project.manifest_path}).")
    seeding.record_built(target_dir)
    return own


def _run_cargo(
    plan: Plan, target_dir: Path, cmd: List[str], env: Mapping[str, str]
) -> cargo.CargoOutput:
    """Run cargo, unless nothing it read changed since this very command last succeeded.

    The record of a run holds the command, the environment, the state of every
    file cargo's dep-info says the artifacts were built from (and of the
    manifests, lock file and configuration) and of the artifacts themselves;
    when all of it holds, cargo's answer would be "Fresh" and its output is the
    recorded one. MATURIN_NOX_SKIP_FRESH_CARGO=0 always runs cargo.
    """
    project = plan.project
    key = hashlib.sha256(json.dumps(cmd).encode()).hexdigest()[:16]
    record_file = target_dir / f"maturin-nox-run-{key}.json"
    digest = env_digest(env)
    if os.environ.get("MATURIN_NOX_SKIP_FRESH_CARGO") != "0":
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
            fresh = record["env"] == digest and changed(record["inputs"]) is None
        except (OSError, ValueError, KeyError, TypeError):
            fresh = False
        if fresh:
            log.info("✨ Nothing cargo reads changed since its last run: not running it")
            return cargo.CargoOutput.from_json(record["output"])
    output = cargo.run_build(cmd, env=env, cwd=project.manifest_path.parent)
    inputs: List[Path] = project_inputs(project.cargo_metadata, project.manifest_path)
    for artifact in output.of_package(str(project.package["id"])).artifacts:
        for filename in artifact.filenames:
            sources = dep_info_inputs(filename)
            if sources is None:
                record_file.unlink(missing_ok=True)
                return output  # no dep-info to vouch for the next run: cargo decides then
            inputs += [*sources, filename]
    record = {"env": digest, "inputs": states(dict.fromkeys(inputs)), "output": output.to_json()}
    try:
        write_text_atomic(record_file, json.dumps(record))
    except OSError:
        pass  # only an optimisation
    return output


def _rustflags(plan: Plan, env: Mapping[str, str]) -> Tuple[List[str], Dict[str, str]]:
    """The cargo arguments and variables that give every crate the plan's extra rustflags."""
    if not plan.rustflags:
        return [], {}
    from .rustflags import with_rustflags

    flags = plan.project.cargo_flags()
    configs = [flags[i + 1] for i, f in enumerate(flags[:-1]) if f == "--config"]
    triple = plan.triple.triple if plan.triple else cargo.host_triple()
    return with_rustflags(
        plan.rustflags,
        triple=triple,
        cwd=plan.project.manifest_path.parent,
        env=env,
        cli_config=configs,
    )


def _compile_with_pgo(plan: Plan, target: BuildTarget) -> cargo.CargoOutput:
    """Instrumented build, training run, merge, optimized build (maturin's three phases)."""
    from . import pgo
    from .compression import FAST

    assert plan.pgo_command is not None
    tool = pgo.find_llvm_profdata()  # before the first build: fail fast
    if target.interpreter is None:
        raise BuildError(
            "--pgo runs the training command with a Python interpreter; pass -i/--interpreter."
        )
    project = plan.project
    with tempfile.TemporaryDirectory(prefix="maturin-nox-pgo-") as tmp:
        profiles = Path(tmp) / "profiles"
        profiles.mkdir()
        log.info("📊 Phase 1/3: building the instrumented wheel")
        instrumented = dataclasses.replace(
            plan,
            pgo_command=None,
            pgo_phase="generate",
            rustflags=(*plan.rustflags, f"-Cprofile-generate={profiles}"),
        )
        output = compile_target(instrumented, target)
        dist_info = dist_info_files(project, plan.sbom_include, plan.path_remap)
        payload = wheel_payload(instrumented, target, output, dist_info=dist_info, audit=False)
        wheel = write_payload(payload, Path(tmp), compression=FAST)
        log.info("🔬 Phase 2/3: running the PGO training command")
        pgo.run_training(
            plan.pgo_command,
            python=str(target.interpreter.executable),
            wheel=wheel,
            requirements=_training_requirements(project),
            cwd=project.root,
            profile_dir=profiles,
        )
        merged = pgo.merge_profiles(tool, profiles)
        log.info("⚡ Phase 3/3: building the PGO-optimized library")
        optimized = dataclasses.replace(
            plan, pgo_command=None, rustflags=(*plan.rustflags, f"-Cprofile-use={merged}")
        )
        return compile_target(optimized, target)


def _training_requirements(project: Project) -> List[str]:
    """What the training environment gets besides the wheel: Requires-Dist, the dev group."""
    import email.parser

    from .groups import dependency_groups, group_requirements

    meta = email.parser.HeaderParser().parsestr(project.metadata.metadata_text)
    requirements = list(meta.get_all("Requires-Dist") or [])
    if "dev" in dependency_groups(project):  # as maturin: the dev group, when there is one
        requirements += group_requirements(project, ["dev"])
    return requirements


def _claim_target_dir(project: Project, target_dir: Path) -> None:
    """Make sure a shared target dir holds no same-named crate from another checkout.

    A cdylib's file name carries no hash, so two copies of one crate sharing a
    target dir write the same file, and cargo may call one copy fresh while the
    file holds the other's build. The dir records which manifest last built each
    crate; on a change of owner only that crate's units are built again (their
    fingerprints are removed; its dependencies stay).
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
        log.debug("Rebuilding %s in %s: last built from %s", name, target_dir, owners[name])
        seeding.forget_package(target_dir, name)
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
        digest = _digest(payload, Path(workdir), plan.compression)
        kept = _reusable(stamp, digest, plan.out_dir)
        serves = target.serves
        if kept is not None:
            return _Staged(BuiltWheel(kept, payload.tag, target, serves, payload.policy, True))
        path = write_payload(
            payload, staging, compression=plan.compression, date_epoch=plan.source_date_epoch
        )
    return _Staged(BuiltWheel(path, payload.tag, target, serves, payload.policy), digest, stamp)


def _digest(payload: WheelPayload, workdir: Path, compression: Compression) -> Optional[str]:
    """A digest of everything that goes into the wheel (files by path, size and mtime).

    The compression is part of it: the same files stored or deflated are different wheels.
    """
    from . import __version__

    digest = hashlib.sha256()
    parts = (__version__, os.environ.get("SOURCE_DATE_EPOCH", ""), compression.describe())
    for part in (*parts, *payload.tags):
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
