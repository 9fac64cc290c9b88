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
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from .errors import BuildError
from .stable_abi import PYO3_CRATES, StableAbi, crate_stable_abis, select_stable_abi

if TYPE_CHECKING:
    from .config import MaturinConfig
    from .interpreters import Interpreter
    from .options import BuildOptions
    from .project import Project

log = logging.getLogger("maturin_nox")

__all__ = [
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


def _fingerprint(interpreter: Interpreter) -> str:
    # Key on the real executable: venvs of one base interpreter share a build.
    if not interpreter.runnable:  # described from its version: one build per version
        return hashlib.sha256(interpreter.display().encode()).hexdigest()[:10]
    real = os.path.realpath(interpreter.executable)
    return hashlib.sha256(real.encode()).hexdigest()[:10]


def _keyed(key: str, features: Sequence[str]) -> str:
    """A target key told apart by its conditional features (a cargo build per feature set)."""
    if not features:
        return key
    return f"{key}-f{hashlib.sha256(','.join(sorted(features)).encode()).hexdigest()[:8]}"


def conditional_features(project: Project, interp: Optional[Interpreter]) -> Tuple[str, ...]:
    """The project's conditional features that apply to an interpreter (none without one)."""
    if interp is None:
        return ()
    found = [
        c.feature
        for c in project.conditional_features
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


def plan_targets(project: Project, interpreters: Sequence[Interpreter]) -> List[BuildTarget]:
    """One target per interpreter, one for a stable-ABI group, or one interpreter-free target."""
    bindings = project.bindings
    if bindings.kind == "bin" and interpreters and _embeds_python(project):
        # maturin tags a binary that embeds Python per interpreter (cp312-cp312), not py3-none
        bins = []
        for i in interpreters:
            feats = conditional_features(project, i)
            key = _keyed(f"bin-{i.python_tag}-{i.abi_tag}-{_fingerprint(i)}", feats)
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
            key = f"{python_tag}-{stable_abi.kind}-{_fingerprint(low)}"
            targets.append(
                BuildTarget(
                    _keyed(key, feats),
                    python_tag,
                    stable_abi.abi_tag,
                    low,
                    tuple(stable),
                    stable_abi.extension_suffix(low),
                    feats,
                )
            )
        _check_fallbacks(project, stable_abi, rest)
        interpreters = rest
    for interp in interpreters:
        feats = conditional_features(project, interp)
        targets.append(
            BuildTarget(
                _keyed(f"{interp.python_tag}-{interp.abi_tag}-{_fingerprint(interp)}", feats),
                interp.python_tag,
                interp.abi_tag,
                interp,
                (interp,),
                interp.ext_suffix,
                feats,
            )
        )
    return targets


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


def bin_names(project: Project, *, strip: bool = False) -> List[Optional[str]]:
    """The ``--bin`` of each cargo call for a binary crate: ``[None]`` is one ``cargo build --bins``.

    rustc arguments (``rustc-args``, strip) can only go to one target at a time,
    so then each binary gets its own ``cargo rustc --bin``, as maturin does; so
    does each binary ``[[tool.maturin.targets]]`` lists.
    """
    from .cargo_targets import selected_bins

    if project.bindings.is_lib:
        return [None]
    if not (strip or project.config.rustc_args or project.config.targets):
        return [None]
    # [[tool.maturin.targets]] narrows the binaries: each listed one gets its own call
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
    compatibility: Optional[str]  # None: the best policy the audit allows
    audit_mode: str  # repair | check | warn | skip
    out_dir: Path
    target_root: Path  # cargo's target directory root; each target builds below it
    user_target_dir: Optional[Path]  # --target-dir as given (cffi looks for a header there)
    cargo_args: Tuple[str, ...]
    quiet: bool
    jobs: int
    editable: bool
    generate_stubs: bool

    def target_dir(self, target: BuildTarget) -> Path:
        """The cargo target directory of one build configuration."""
        return self.target_root / "maturin-nox" / target.key

    @property
    def audits(self) -> bool:
        """Whether wheels are audited against the manylinux/musllinux policies (Linux targets)."""
        if not sys.platform.startswith("linux"):
            return False
        return self.compatibility not in ("linux", "off")


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
    if interpreters is None:
        interpreters = choose_interpreters(project, options)
    cwd = (options.cwd or Path.cwd()).resolve()
    user_target_dir = (cwd / options.target_dir).resolve() if options.target_dir else None
    targets = tuple(plan_targets(project, interpreters))
    jobs = max(1, min(len(targets), options.jobs or os.cpu_count() or 1))
    return Plan(
        project=project,
        targets=targets,
        profile=resolve_profile(config, options),
        strip=config.strip if options.strip is None else options.strip,
        zig=options.zig or config.zig,
        compatibility=options.compatibility or config.compatibility,
        audit_mode=options.auditwheel or config.auditwheel or "repair",
        out_dir=out_dir,
        target_root=user_target_dir or project.target_directory,
        user_target_dir=user_target_dir,
        cargo_args=tuple(options.cargo_args),
        quiet=options.quiet,
        jobs=jobs,
        editable=options.editable,
        generate_stubs=options.generate_stubs,
    )


def cargo_env(project: Project, target: BuildTarget, *, editable: bool = False) -> Dict[str, str]:
    """Cargo's environment: the user's, plus what pyo3 needs unless the user set it.

    ``PYO3_PYTHON`` is the interpreter as given (a venv's own ``python``, not the
    file it links to), as maturin sets it, so a build script that runs it sees the
    venv's packages. The target dir stays keyed on the real file (:func:`_fingerprint`).
    """
    env = dict(os.environ)
    extra: Dict[str, str] = {}
    interp = target.interpreter
    if interp is not None and not interp.runnable:
        pass  # nothing to run: pyo3 reads a PYO3_CONFIG_FILE (maturin_nox.pyo3_config)
    elif interp is not None and (
        project.bindings.needs_interpreter or project.bindings.kind == "bin"
    ):
        given = str(interp.executable)
        extra["PYO3_PYTHON"] = given
        extra["PYO3_ENVIRONMENT_SIGNATURE"] = (
            f"{interp.implementation}-{interp.major}.{interp.minor}-{interp.pointer_width}bit"
        )
        if project.bindings.kind == "rust-cpython":
            extra["PYTHON_SYS_EXECUTABLE"] = given
    if project.bindings.needs_interpreter:
        extra["PYO3_BUILD_EXTENSION_MODULE"] = "1"
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
    plan: Plan, target: BuildTarget, *, cargo: str, bin_name: Optional[str] = None
) -> List[str]:
    """The cargo invocation for a library (``cargo rustc --lib --crate-type cdylib``) or a binary."""
    project = plan.project
    rustc_args = list(project.config.rustc_args)
    if plan.strip:
        rustc_args += ["-C", "strip=symbols"]
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
    cmd += project.cargo_flags()
    cmd += list(project.config.cargo_args) + list(plan.cargo_args)
    if rustc_args and cmd[1] == "rustc":
        cmd += ["--", *rustc_args]
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
