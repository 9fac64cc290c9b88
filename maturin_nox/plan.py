"""Planning the build: every setting resolved once (:class:`Plan`), one :class:`BuildTarget` per wheel.

A target is an interpreter (or an abi3 group of interpreters, or none for
cffi and binaries) with its wheel tag, the environment cargo runs in and a
target directory of its own: cargo's fingerprints change whenever
``PYO3_PYTHON`` changes, so sharing one directory would throw away the last
interpreter's build each time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

from .compression import Compression, resolve_compression
from .errors import BuildError, ConfigError
from .platform_tags import TargetTriple, parse_compatibility, parse_triple
from .stable_abi import PYO3_CRATES, StableAbi, crate_stable_abis, select_stable_abi

if TYPE_CHECKING:
    from .config import MaturinConfig
    from .interpreters import Interpreter
    from .options import BuildOptions
    from .project import Project

log = logging.getLogger("maturin_nox")

__all__ = [
    "PYPI_ARCHES",
    "BuildTarget",
    "Plan",
    "bin_names",
    "cargo_command",
    "cargo_env",
    "choose_interpreters",
    "conditional_features",
    "feature_args",
    "plan_targets",
    "platform_tag",
    "profile_args",
    "pyo3_python",
    "resolve_compatibility",
    "resolve_plan",
    "resolve_profile",
]


@dataclass(frozen=True)
class BuildTarget:
    """What one wheel is built for, and where cargo keeps its build.

    ``features`` are the conditional ``tool.maturin.features`` that apply to the
    target's interpreter (maturin's ``python-version``/``python-implementation``
    tables), on top of the project's; the key tells builds with other features apart.
    """

    key: str
    python_tag: str
    abi_tag: str  # compressed: "abi3.abi3t" for an abi3t wheel
    interpreter: Optional[Interpreter]
    serves: Tuple[Interpreter, ...] = field(default=())
    ext_suffix: Optional[str] = None
    features: Tuple[str, ...] = ()

    def tag(self, platform: str) -> str:
        """The wheel tag for a platform tag, e.g. ``cp312-cp312-linux_x86_64`` (compressed)."""
        return f"{self.python_tag}-{self.abi_tag}-{platform}"

    def tags(self, platforms: Sequence[str]) -> List[str]:
        """The single tags the wheel declares: every ABI tag with every platform tag."""
        return [
            f"{self.python_tag}-{abi}-{p}" for abi in self.abi_tag.split(".") for p in platforms
        ]

    @property
    def abi3(self) -> bool:
        """Whether this wheel targets a stable ABI (abi3 or abi3t): one wheel for many interpreters."""
        return self.abi_tag.split(".")[0] == "abi3"


def _fingerprint(project: Project, interpreter: Interpreter) -> str:
    # Keyed on the PYO3_PYTHON cargo sees: venvs of one base interpreter share a build
    # unless a build script of the checkout may run the venv's python (pyo3_python).
    if not interpreter.runnable:  # described from its version: one build per version
        return hashlib.sha256(interpreter.display().encode()).hexdigest()[:10]
    seen = pyo3_python(project, interpreter.executable)
    return hashlib.sha256(seen.encode()).hexdigest()[:10]


def _keyed(key: str, features: Sequence[str]) -> str:
    """A target key told apart by its conditional features (a cargo build per feature set)."""
    if not features:
        return key
    return f"{key}-f{hashlib.sha256(','.join(sorted(features)).encode()).hexdigest()[:8]}"


def conditional_features(project: Project, interp: Optional[Interpreter]) -> Tuple[str, ...]:
    """The project's conditional features that apply to an interpreter (none without one)."""
    conditional = getattr(project, "conditional_features", ())  # stand-ins in unit tests lack it
    if interp is None or not conditional:
        return ()
    found = [
        c.feature
        for c in conditional
        if c.applies(interp.major, interp.minor, interp.implementation)
    ]
    return tuple(f for f in dict.fromkeys(found) if f not in project.features)


def _stable_abi(project: Project, interpreters: Sequence[Interpreter]) -> Optional[StableAbi]:
    """The stable ABI of this build: the crate's features, plus conditional pyo3 features that
    apply to any of the interpreters (as maturin's upgrade_bridge_stable_abi)."""
    bindings = project.bindings
    crates = {c: f for c, f in bindings.features_of().items() if c in PYO3_CRATES}
    if not crates:  # a project made without its graph (unit tests): the detected abi3
        return StableAbi("abi3", bindings.abi3_min) if bindings.abi3 else None
    extra: Dict[str, List[str]] = {}
    for interp in interpreters:
        for feature in conditional_features(project, interp):
            crate, _, name = feature.partition("/")
            if name and crate in crates:
                extra.setdefault(crate, []).append(name)
    abi3t, abi3 = crate_stable_abis(crates, extra)
    return select_stable_abi(abi3t, abi3, interpreters)


def plan_targets(
    project: Project,
    interpreters: Sequence[Interpreter],
    triple: Optional[TargetTriple] = None,
) -> List[BuildTarget]:
    """One target per interpreter, one for a stable-ABI group, or one interpreter-free target.

    ``triple`` is a target other than the host's: the extension suffixes are its.
    """
    bindings = project.bindings
    if bindings.kind == "bin" and interpreters and _embeds_python(project):
        # maturin tags a binary that embeds Python per interpreter (cp312-cp312), not py3-none
        bins = []
        for i in interpreters:
            feats = conditional_features(project, i)
            key = _keyed(f"bin-{i.python_tag}-{i.abi_tag}-{_fingerprint(project, i)}", feats)
            bins.append(BuildTarget(key, i.python_tag, i.abi_tag, i, (i,), features=feats))
        return bins
    if not bindings.needs_interpreter:
        serves = tuple(interpreters)
        first = interpreters[0] if interpreters else None
        feats = conditional_features(project, first)
        return [
            BuildTarget(_keyed("py3-none", feats), "py3", "none", first, serves, features=feats)
        ]
    if not interpreters:
        raise BuildError(
            "No Python interpreter to build for; pass -i/--interpreter or -f/--find-interpreter."
        )
    targets: List[BuildTarget] = []
    stable_abi = _stable_abi(project, interpreters) if bindings.kind in PYO3_CRATES else None
    if stable_abi is not None:
        stable = [i for i in interpreters if stable_abi.supports(i)]
        rest = [i for i in interpreters if i not in stable]
        if stable:
            low = min(stable, key=lambda i: i.version)
            feats = conditional_features(project, low)
            python_tag = stable_abi.python_tag(low)
            key = f"{python_tag}-{stable_abi.kind}-{_fingerprint(project, low)}"
            targets.append(
                BuildTarget(
                    _keyed(key, feats),
                    python_tag,
                    stable_abi.abi_tag,
                    low,
                    tuple(stable),
                    _stable_suffix(stable_abi, low, triple),
                    feats,
                )
            )
        _check_fallbacks(project, stable_abi, rest)
        interpreters = rest
    for interp in interpreters:
        feats = conditional_features(project, interp)
        targets.append(
            BuildTarget(
                _keyed(
                    f"{interp.python_tag}-{interp.abi_tag}-{_fingerprint(project, interp)}", feats
                ),
                interp.python_tag,
                interp.abi_tag,
                interp,
                (interp,),
                triple.ext_suffix(interp.ext_suffix) if triple else interp.ext_suffix,
                feats,
            )
        )
    return targets


def _stable_suffix(abi: StableAbi, builder: Interpreter, triple: Optional[TargetTriple]) -> str:
    """The stable-ABI suffix; cross-compiling, its platform part (from 3.15) is the target's."""
    suffix = abi.extension_suffix(builder)
    kind, dash, platform = suffix.partition("-")
    if triple is None or not dash:
        return suffix
    rewritten = triple.ext_suffix(f".cpython-0-{platform}")  # the triple's SOABI platform
    return f"{kind}-{rewritten.split('-', 2)[2]}"


def _check_fallbacks(project: Project, stable_abi: StableAbi, rest: Sequence[Interpreter]) -> None:
    """Interpreters the stable ABI cannot serve get version-specific wheels, as in maturin.

    A CPython older than the crate's own ``abi3-pyXY`` cannot: pyo3 refuses to build for it.
    """
    crates = {c: f for c, f in project.bindings.features_of().items() if c in PYO3_CRATES}
    _, plain_abi3 = crate_stable_abis(crates) if crates else (None, stable_abi)
    for interp in rest:
        floor = plain_abi3.min_version if plain_abi3 is not None else None
        if (
            floor is not None
            and interp.implementation == "cpython"
            and not interp.gil_disabled
            and (interp.major, interp.minor) < floor
        ):
            raise BuildError(
                f"{interp.display()} is older than Python {floor[0]}.{floor[1]}, the minimum of "
                f"the crate's abi3-py{floor[0]}{floor[1]} feature."
            )
    if rest:
        names = ", ".join(
            dict.fromkeys(
                f"{i.implementation_name} {i.major}.{i.minor}{'t' if i.gil_disabled else ''}"
                for i in rest
            )
        )
        log.warning(
            f"{stable_abi.kind} does not yet support {names}, so the build artifacts "
            "will be version-specific."
        )


def _embeds_python(project: Project) -> bool:
    from .binaries import links_python

    return links_python(project)


def bin_names(plan: Plan) -> List[Optional[str]]:
    """The ``--bin`` of each cargo call for a binary crate: ``[None]`` is one ``cargo build --bins``.

    rustc arguments (after ``--``, ``rustc-args``, strip) can only go to one target
    at a time, so then each binary gets its own ``cargo rustc --bin``, as maturin does;
    so does each binary ``[[tool.maturin.targets]]`` lists.
    """
    from .cargo_targets import selected_bins

    project = plan.project
    if project.bindings.is_lib:
        return [None]
    if not (plan.rustc_args or project.config.targets):
        return [None]
    return list(selected_bins(project)) or [None]


def resolve_profile(config: MaturinConfig, options: BuildOptions) -> str:
    """The cargo profile, the one rule for every front.

    --profile, then -r (release), then tool.maturin.editable-profile (develop and
    editable installs), then tool.maturin.profile, then the front's default (dev;
    release for the PEP 517 backend).
    """
    if options.profile:
        return options.profile
    if options.release:
        return "release"
    if options.editable and config.editable_profile:
        return config.editable_profile
    return config.profile or options.default_profile


def choose_interpreters(project: Project, options: BuildOptions) -> List[Interpreter]:
    """The interpreters to build for, filtered by the project's requires-python."""
    from .interpreters import select

    if project.bindings.kind == "bin" and not options.interpreters and not options.find_interpreter:
        if not _embeds_python(project):  # a binary embedding Python is built per interpreter
            return []
    source = str(project.pyproject_path or project.manifest_path)
    interps = select(
        options.interpreters,
        find=options.find_interpreter,
        requires_python=project.metadata.requires_python,
        requires_python_source=source,
        not_installed_ok=project.bindings.kind in PYO3_CRATES,
    )
    for interp in interps:
        log.debug("🐍 Using %s", interp.display())
    return interps


@dataclass(frozen=True)
class Plan:
    """One build with every effective setting resolved, and the wheels it makes.

    Made once by :func:`resolve_plan` from the project and the options; every
    later step (cargo, payload, audit, writers, installers) reads it and never
    looks at the options or ``[tool.maturin]`` again.
    """

    project: Project
    targets: Tuple[BuildTarget, ...]
    profile: str
    strip: bool
    zig: bool
    # The policy the audit checks: None for the best, "pypi" for the best PyPI takes, "linux"
    # for none, else the lowest manylinux/musllinux policy asked for.
    compatibility: Optional[str]
    audit_mode: str  # repair | check | warn | skip
    out_dir: Path
    target_root: Path  # cargo's target directory root; each target builds below it
    user_target_dir: Optional[Path]  # --target-dir as given (cffi looks for a header there)
    cargo_args: Tuple[str, ...]  # extra arguments for cargo (tool.maturin.cargo-extra-args, API)
    quiet: bool
    interpreter_jobs: int  # how many targets build at once
    editable: bool
    triple: Optional[TargetTriple] = None  # --target (or $CARGO_BUILD_TARGET)
    # further --compatibility policies the wheel is tagged with (newer than the audited one)
    extra_policies: Tuple[str, ...] = ()
    pypi: bool = False  # --compatibility pypi: the wheel must be one PyPI accepts
    rustc_args: Tuple[str, ...] = ()  # after cargo's --: the user's, strip, split debug info
    build_flags: Tuple[str, ...] = ()  # cargo -j, --timings, --color, -v, ... (build calls only)
    compression: Compression = field(default_factory=Compression)
    include_debuginfo: bool = False
    sbom_include: Tuple[str, ...] = ()  # tool.maturin.sbom.include, then --sbom-include
    generate_stubs: bool = False
    pgo_command: Optional[str] = None  # --pgo: tool.maturin.pgo-command
    rustflags: Tuple[str, ...] = ()  # for every crate: a PGO phase's -Cprofile-generate/-use
    pgo_phase: Optional[str] = None  # "generate": the instrumented build, in a folder of its own
    options: Optional[BuildOptions] = None  # what the plan was resolved from (a rebuild repeats it)
    reproducible: bool = False  # paths remapped so another location builds the same bytes
    path_remap: Optional[Tuple[str, str]] = None  # reproducible: (the sdist root, its stand-in)
    source_date_epoch: Optional[int] = None  # the wheels' timestamps (else $SOURCE_DATE_EPOCH)

    def target_dir(self, target: BuildTarget) -> Path:
        """The cargo target directory of one build configuration (one per target triple)."""
        name = target.key if self.triple is None else f"{target.key}-{self.triple.triple}"
        if self.pgo_phase:
            name += f"-pgo-{self.pgo_phase}"
        return self.target_root / "maturin-nox" / name

    @property
    def cross(self) -> Optional[TargetTriple]:
        """The target triple when it is not the host's (None for a native build)."""
        return _cross(self.triple)

    def platform(self, target: BuildTarget) -> str:
        """The plain platform tag of a target: the triple's, else the interpreter's machine."""
        if self.triple is not None:
            return self.triple.linux_tag()
        return platform_tag(target.interpreter, self.project.config)

    @property
    def audits(self) -> bool:
        """Whether wheels are audited against the manylinux/musllinux policies (Linux targets)."""
        if self.triple is not None:
            linux = self.triple.is_linux
        else:
            linux = sys.platform.startswith("linux")
        return linux and self.compatibility != "linux"


# What PyPI takes on Linux (warehouse's lists, as maturin has them).
PYPI_ARCHES = {
    "glibc": ("x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "ppc64", "riscv64"),
    "musl": ("x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"),
}


def _target_triple(project: Project) -> Optional[TargetTriple]:
    """The target asked for, checked: its standard library is installed, it is a Linux target."""
    from .platform_tags import require_std

    if not project.target:
        return None
    triple = parse_triple(project.target)
    if not triple.is_linux and sys.platform.startswith("linux"):
        raise ConfigError(
            f"--target {project.target} builds for {triple.os}; maturin-nox cross-compiles "
            "only to Linux targets (build on that system instead).",
            key="target",
        )
    require_std(project.target, _unstable_flags(project))
    return triple


def _unstable_flags(project: Project) -> List[str]:
    flags = project.cargo_flags()
    return [flags[i + 1] for i, f in enumerate(flags[:-1]) if f == "-Z"]


def resolve_compatibility(
    project: Project, options: BuildOptions, triple: Optional[TargetTriple]
) -> Tuple[Optional[str], Tuple[str, ...], bool]:
    """The audit's policy, the further policies to tag, and whether PyPI must accept the wheel.

    ``--compatibility`` values replace tool.maturin.compatibility. Several
    policies tag the wheel with all of them; the audit checks the lowest of the
    target's libc (the others follow from it), as maturin does. Policies of the
    other libc are dropped with a warning.
    """
    config = project.config
    if options.compatibility:
        values = [parse_compatibility(v) for v in _as_tuple(options.compatibility)]
        source = "--compatibility"
    elif config.compatibility:
        where = f"{project.pyproject_path}: tool.maturin.compatibility"
        values = [parse_compatibility(config.compatibility, source=where)]
        source = where
    else:
        return None, (), False
    pypi = "pypi" in values
    policies = list(dict.fromkeys(v for v in values if v != "pypi"))
    if "linux" in policies and (len(policies) > 1 or pypi):
        raise ConfigError(
            f"{source} mixes linux with "
            + ("pypi" if pypi and len(policies) == 1 else "manylinux/musllinux tags")
            + ": a plain linux wheel is neither portable nor accepted by PyPI.",
            key="compatibility",
        )
    libc = triple.libc if triple is not None else _host_libc()
    family = "musllinux" if libc == "musl" else "manylinux"
    fitting = [p for p in policies if p == "linux" or p.startswith(family)]
    if fitting and len(fitting) < len(policies):
        for p in policies:
            if p not in fitting:
                log.warning(f"{p} does not fit a {libc} target; the wheel is not tagged with it.")
        policies = fitting
    for p in policies:
        if p.startswith("manylinux_2_") and int(p.split("_")[2]) < 17:
            log.warning(f"{p} is unsupported by the Rust compiler (it needs glibc 2.17 or newer).")
    if pypi and triple is not None and triple.libc is not None:
        if triple.arch not in PYPI_ARCHES[triple.libc]:
            raise ConfigError(
                f"--compatibility pypi: PyPI does not accept wheels for {triple.triple}.",
                key="compatibility",
            )
    if not policies:
        return ("pypi" if pypi else None), (), pypi
    ordered = sorted(policies, key=_policy_version)
    return ordered[0], tuple(ordered[1:]), pypi


def _policy_version(name: str) -> Tuple[int, int]:
    parts = name.split("_")
    return (int(parts[1]), int(parts[2])) if len(parts) == 3 else (0, 0)


def _host_libc() -> Optional[str]:
    from .cargo import host_triple

    return parse_triple(host_triple()).libc


def _as_tuple(value: object) -> Tuple[str, ...]:
    """A tuple of strings from a tuple, a list or one string (API callers pass any)."""
    if value is None:
        return ()
    if isinstance(value, (str, Path)):
        return (str(value),)
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


def _build_flags(options: BuildOptions) -> Tuple[str, ...]:
    """The cargo flags only a build takes (not ``cargo metadata``), in maturin's order."""
    flags: List[str] = []
    if options.quiet:
        flags.append("--quiet")
    if options.jobs:
        flags += ["--jobs", str(options.jobs)]
    if options.verbose:
        flags.append("-" + "v" * min(options.verbose, 2))
    if options.color:
        flags += ["--color", options.color]
    if options.timings:
        flags.append("--timings")
    if options.ignore_rust_version:
        flags.append("--ignore-rust-version")
    if options.future_incompat_report:
        flags.append("--future-incompat-report")
    return tuple(flags)


def _rustc_args(
    project: Project, options: BuildOptions, strip: bool, debuginfo: bool
) -> Tuple[str, ...]:
    """What follows cargo's ``--``: the flags (which replace tool.maturin.rustc-args), strip, debug info."""
    args = list(_as_tuple(options.rustc_args)) or list(project.config.rustc_args)
    if strip:
        args += ["-C", "strip=symbols"]
    if debuginfo:
        args += ["-C", "split-debuginfo=packed"]
    return tuple(args)


def _include_debuginfo(project: Project, options: BuildOptions, strip: bool) -> bool:
    if not options.include_debuginfo:
        return False
    if strip:
        log.warning("--strip is enabled, disabling --include-debuginfo.")
        return False
    if not project.bindings.is_lib:
        log.warning(
            "--include-debuginfo: debug info of binaries is not put into wheels (as maturin); "
            "the binaries keep theirs."
        )
        return False
    return True


def _pgo_command(project: Project, options: BuildOptions) -> Optional[str]:
    if not options.pgo:
        return None
    command = project.config.pgo_command
    if not command:
        where = project.pyproject_path or project.manifest_path.parent / "pyproject.toml"
        raise ConfigError(
            f"--pgo needs a training command: set tool.maturin.pgo-command in {where}.",
            where,
            "tool.maturin.pgo-command",
        )
    return command


def resolve_plan(
    project: Project,
    options: BuildOptions,
    *,
    interpreters: Optional[Sequence[Interpreter]] = None,
) -> Plan:
    """Resolve the options against the project, once: profile, strip, audit, folders, targets."""
    from .cargo_targets import check_targets
    from .staging import check_output_folder

    config = project.config
    check_targets(project)  # [[tool.maturin.targets]] that match nothing fail before cargo
    out_dir = (options.out_dir or project.target_directory / "wheels").resolve()
    check_output_folder(out_dir)
    triple = _target_triple(project)
    if options.pgo and not options.profile and not options.release:
        options = options.replace(release=True)  # as maturin: PGO of a debug build makes no sense
    if interpreters is None:
        interpreters = choose_interpreters(project, options)
    cwd = (options.cwd or Path.cwd()).resolve()
    user_target_dir = (cwd / options.target_dir).resolve() if options.target_dir else None
    targets = tuple(plan_targets(project, interpreters, _cross(triple)))
    jobs = max(1, min(len(targets), options.interpreter_jobs or os.cpu_count() or 1))
    if options.pgo:
        jobs = 1  # one training run at a time, as maturin
    profile = resolve_profile(config, options)
    strip = config.strip if options.strip is None else options.strip
    compatibility, extra_policies, pypi = resolve_compatibility(project, options, triple)
    debuginfo = _include_debuginfo(project, options, strip)
    fast = options.editable or profile == "dev"
    return Plan(
        project=project,
        targets=targets,
        profile=profile,
        strip=strip,
        zig=options.zig or config.zig,
        compatibility=compatibility,
        audit_mode=options.auditwheel or config.auditwheel or "repair",
        out_dir=out_dir,
        target_root=user_target_dir or project.target_directory,
        user_target_dir=user_target_dir,
        cargo_args=tuple(config.cargo_args) + _as_tuple(options.cargo_args),
        quiet=options.quiet,
        interpreter_jobs=jobs,
        editable=options.editable,
        triple=triple,
        extra_policies=extra_policies,
        pypi=pypi,
        rustc_args=_rustc_args(project, options, strip, debuginfo) + _remaps(project, options),
        build_flags=_build_flags(options),
        compression=resolve_compression(
            options.compression_method,
            options.compression_level,
            options.compression_large_file,
            fast=fast,
        ),
        include_debuginfo=debuginfo,
        sbom_include=tuple(dict.fromkeys([*config.sbom_include, *_as_tuple(options.sbom_include)])),
        generate_stubs=options.generate_stubs,
        pgo_command=_pgo_command(project, options),
        options=options,
        reproducible=options.reproducible,
        path_remap=_path_remap(project, options),
        source_date_epoch=_source_date_epoch(project, options),
    )


def _source_date_epoch(project: Project, options: BuildOptions) -> Optional[int]:
    """A reproducible build's timestamp: as given, else $SOURCE_DATE_EPOCH, else the last commit's."""
    if options.source_date_epoch is not None:
        return options.source_date_epoch
    if not options.reproducible or os.environ.get("SOURCE_DATE_EPOCH"):
        return None
    from .reproducible import last_commit_time

    return last_commit_time(project.root)


def _path_remap(project: Project, options: BuildOptions) -> Optional[Tuple[str, str]]:
    if not options.reproducible:
        return None
    from .reproducible import sdist_root, top_name

    return str(sdist_root(project)), top_name(project)


def _remaps(project: Project, options: BuildOptions) -> Tuple[str, ...]:
    """A reproducible build's rustc path remaps (the source and target roots of this location)."""
    if not options.reproducible:
        return ()
    from .reproducible import remap_args

    cwd = (options.cwd or Path.cwd()).resolve()
    target_root = (
        (cwd / options.target_dir).resolve() if options.target_dir else project.target_directory
    )
    return remap_args(project, target_root)


def _cross(triple: Optional[TargetTriple]) -> Optional[TargetTriple]:
    """The triple when it is not the host's own (then extension suffixes change)."""
    if triple is None:
        return None
    from .cargo import host_triple

    return None if triple.triple == host_triple() else triple


def pyo3_python(project: Project, executable: Union[str, os.PathLike[str]]) -> str:
    """The interpreter path cargo's build scripts get as ``PYO3_PYTHON``.

    A venv's python as given when a package of the checkout (a workspace member
    or path dependency) has a build script: that script may run it to import a
    package installed in the venv, as maturin lets it. Otherwise the real file:
    pyo3's own build script reads only the interpreter's configuration, the same
    from every venv of it, so the venvs and their base share one build instead of
    rebuilding pyo3 each time the spelling changes (a develop into a venv, then a
    build for the base). Links that are not a venv (``python3`` to ``python3.12``)
    are always resolved.
    """
    path = Path(executable)
    in_venv = (path.parent.parent / "pyvenv.cfg").is_file() or (
        path.parent / "pyvenv.cfg"
    ).is_file()
    if in_venv and _local_build_script(project):
        return str(path)
    return os.path.realpath(path)


def _local_build_script(project: Project) -> bool:
    """Whether a package of the checkout (not from a registry or git) has a build script."""
    metadata = getattr(project, "cargo_metadata", None) or {}  # stand-ins in unit tests lack it
    for package in metadata.get("packages", []):
        if package.get("source") is None and any(
            "custom-build" in target.get("kind", ()) for target in package.get("targets", ())
        ):
            return True
    return False


def cargo_env(
    project: Project,
    target: BuildTarget,
    cross: Optional[TargetTriple] = None,
    *,
    editable: bool = False,
) -> Dict[str, str]:
    """Cargo's environment: the user's, plus what pyo3 needs unless the user set it.

    ``PYO3_PYTHON`` is :func:`pyo3_python`: a venv's own ``python`` when a build
    script of the checkout may run it to import the venv's packages (as maturin
    sets it), the real file otherwise; the target dir is keyed on the same path
    (:func:`_fingerprint`), so alternating between a venv and its base never
    makes cargo rebuild pyo3.
    ``cross`` is a target triple other than the host's: pyo3 then reads the
    target's Python version from ``PYO3_CROSS_PYTHON_VERSION``.
    """
    env = dict(os.environ)
    extra: Dict[str, str] = {}
    interp = target.interpreter
    if interp is not None and not interp.runnable:
        pass  # nothing to run: pyo3 reads a PYO3_CONFIG_FILE (maturin_nox.pyo3_config)
    elif interp is not None and (
        project.bindings.needs_interpreter or project.bindings.kind == "bin"
    ):
        given = pyo3_python(project, interp.executable)
        extra["PYO3_PYTHON"] = given
        extra["PYO3_ENVIRONMENT_SIGNATURE"] = (
            f"{interp.implementation}-{interp.major}.{interp.minor}-{interp.pointer_width}bit"
        )
        if project.bindings.kind == "rust-cpython":
            extra["PYTHON_SYS_EXECUTABLE"] = given
    if project.bindings.needs_interpreter:
        extra["PYO3_BUILD_EXTENSION_MODULE"] = "1"
        if cross is not None and interp is not None:
            extra["PYO3_CROSS_PYTHON_VERSION"] = f"{interp.major}.{interp.minor}"
            extra["PYO3_CROSS_PYTHON_IMPLEMENTATION"] = interp.implementation_name
    if sys.platform == "darwin" and not editable:
        deployment = macos_deployment_target(project.config, platform_tag().split("_", 3)[-1])
        if deployment:  # maturin: by configuration, unless MACOSX_DEPLOYMENT_TARGET is set
            extra["MACOSX_DEPLOYMENT_TARGET"] = deployment
    for key, value in extra.items():
        env.setdefault(key, value)
    return env


def profile_args(profile: str) -> List[str]:
    """Cargo's flags selecting ``profile`` (none for ``dev``)."""
    if profile == "release":
        return ["--release"]
    return [] if profile == "dev" else ["--profile", profile]


def feature_args(project: Project, extra: Sequence[str] = ()) -> List[str]:
    """Cargo's flags for the project's features, plus ``extra`` ones."""
    features = [*project.features, *(f for f in extra if f not in project.features)]
    args = ["--features", ",".join(features)] if features else []
    if project.all_features:
        args.append("--all-features")
    if project.no_default_features:
        args.append("--no-default-features")
    return args


def cargo_command(
    plan: Plan,
    target: BuildTarget,
    *,
    cargo: str,
    bin_name: Optional[str] = None,
    extra: Sequence[str] = (),
) -> List[str]:
    """The cargo invocation for a library (``cargo rustc --lib --crate-type cdylib``) or a binary.

    ``extra`` are cargo arguments the caller adds (the ``--config`` carrying a PGO phase's rustflags).
    """
    project = plan.project
    cmd = [cargo, "rustc"]
    if project.bindings.is_lib:
        cmd += ["--lib", "--crate-type", "cdylib"]
    elif bin_name is not None:
        cmd += ["--bin", bin_name]
    else:
        cmd = [cargo, "build", "--bins"]
    cmd += ["--manifest-path", str(project.manifest_path)]
    cmd += ["--target-dir", str(plan.target_dir(target))]
    cmd += ["--message-format=json-render-diagnostics"]
    cmd += profile_args(plan.profile) + feature_args(project, target.features)
    if plan.triple is not None:
        cmd += ["--target", plan.triple.triple]
    cmd += project.cargo_flags()
    cmd += list(plan.build_flags)
    cmd += list(plan.cargo_args) + list(extra)
    if plan.rustc_args and cmd[1] == "rustc":
        cmd += ["--", *plan.rustc_args]
    return cmd


def platform_tag(
    interp: Optional[Interpreter] = None, config: Optional[MaturinConfig] = None
) -> str:
    """The plain platform tag of the build machine (``linux_x86_64``, ``win_amd64``, ...).

    On macOS, ``[tool.maturin.target."<arch>-apple-darwin"] macos-deployment-target``
    gives the tag's version, as in maturin (``macosx_10_12_x86_64``).
    """
    plat = interp.platform if interp is not None else sysconfig.get_platform()
    tag = plat.replace("-", "_").replace(".", "_").replace(" ", "_")
    if config is not None and tag.startswith("macosx_"):
        arch = tag.split("_", 3)[-1]  # macosx_10_9_x86_64 -> x86_64
        deployment = macos_deployment_target(config, arch)
        if deployment:
            return f"macosx_{deployment.replace('.', '_')}_{arch}"
    return tag


def macos_deployment_target(config: MaturinConfig, arch: str) -> Optional[str]:
    """The configured macOS deployment target for ``x86_64`` or ``arm64`` builds, if any."""
    triple = "aarch64-apple-darwin" if arch in ("arm64", "aarch64") else f"{arch}-apple-darwin"
    return config.macos_deployment_target(triple)
