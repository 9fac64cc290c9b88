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
    "feature_args",
    "plan_targets",
    "platform_tag",
    "profile_args",
    "resolve_plan",
    "resolve_profile",
]


@dataclass(frozen=True)
class BuildTarget:
    """What one wheel is built for, and where cargo keeps its build."""

    key: str
    python_tag: str
    abi_tag: str
    interpreter: Optional[Interpreter]
    serves: Tuple[Interpreter, ...] = field(default=())
    ext_suffix: Optional[str] = None

    def tag(self, platform: str) -> str:
        """The wheel tag for a platform tag, e.g. ``cp312-cp312-linux_x86_64``."""
        return f"{self.python_tag}-{self.abi_tag}-{platform}"

    @property
    def abi3(self) -> bool:
        """Whether this wheel targets the stable ABI."""
        return self.abi_tag == "abi3"


def _fingerprint(interpreter: Interpreter) -> str:
    # Key on the real executable: venvs of one base interpreter share a build.
    real = os.path.realpath(interpreter.executable)
    return hashlib.sha256(real.encode()).hexdigest()[:10]


def plan_targets(project: Project, interpreters: Sequence[Interpreter]) -> List[BuildTarget]:
    """One target per interpreter, one for an abi3 group, or one interpreter-free target."""
    bindings = project.bindings
    if bindings.kind == "bin" and interpreters and _embeds_python(project):
        # maturin tags a binary that embeds Python per interpreter (cp312-cp312), not py3-none
        return [
            BuildTarget(
                f"bin-{i.python_tag}-{i.abi_tag}-{_fingerprint(i)}",
                i.python_tag,
                i.abi_tag,
                i,
                (i,),
            )
            for i in interpreters
        ]
    if not bindings.needs_interpreter:
        serves = tuple(interpreters)
        return [
            BuildTarget(
                "py3-none", "py3", "none", interpreters[0] if interpreters else None, serves
            )
        ]
    if not interpreters:
        raise BuildError(
            "No Python interpreter to build for; pass -i/--interpreter or -f/--find-interpreter."
        )
    targets: List[BuildTarget] = []
    if bindings.abi3:
        stable = [i for i in interpreters if i.implementation == "cpython" and not i.gil_disabled]
        rest = [i for i in interpreters if i not in stable]
        if stable:
            low = min(stable, key=lambda i: i.version)
            major, minor = bindings.abi3_min or (low.major, low.minor)
            if (low.major, low.minor) < (major, minor):
                raise BuildError(
                    f"{low.display()} is older than Python {major}.{minor}, the minimum of the crate's "
                    f"abi3-py{major}{minor} feature."
                )
            targets.append(
                BuildTarget(
                    f"cp{major}{minor}-abi3-{_fingerprint(low)}",
                    f"cp{major}{minor}",
                    "abi3",
                    low,
                    tuple(stable),
                    _abi3_suffix(low),
                )
            )
        interpreters = rest
    for interp in interpreters:
        targets.append(
            BuildTarget(
                f"{interp.python_tag}-{interp.abi_tag}-{_fingerprint(interp)}",
                interp.python_tag,
                interp.abi_tag,
                interp,
                (interp,),
                interp.ext_suffix,
            )
        )
    return targets


def _embeds_python(project: Project) -> bool:
    from .binaries import links_python

    return links_python(project)


def bin_names(project: Project, *, strip: bool = False) -> List[Optional[str]]:
    """The ``--bin`` of each cargo call for a binary crate: ``[None]`` is one ``cargo build --bins``.

    rustc arguments (``rustc-args``, strip) can only go to one target at a time,
    so then each binary gets its own ``cargo rustc --bin``, as maturin does.
    """
    if project.bindings.is_lib or not (strip or project.config.rustc_args):
        return [None]
    return [str(t["name"]) for t in project.bin_targets] or [None]


def _abi3_suffix(interp: Interpreter) -> str:
    if interp.system == "windows":
        return ".pyd"
    return ".abi3.so"


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
    from .staging import check_output_folder

    config = project.config
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


def cargo_env(project: Project, target: BuildTarget) -> Dict[str, str]:
    """Cargo's environment: the user's, plus what pyo3 needs unless the user set it.

    ``PYO3_PYTHON`` is the interpreter as given (a venv's own ``python``, not the
    file it links to), as maturin sets it, so a build script that runs it sees the
    venv's packages. The target dir stays keyed on the real file (:func:`_fingerprint`).
    """
    env = dict(os.environ)
    extra: Dict[str, str] = {}
    interp = target.interpreter
    if interp is not None and (
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
    cmd += profile_args(plan.profile) + feature_args(project)
    cmd += project.cargo_flags()
    cmd += list(project.config.cargo_args) + list(plan.cargo_args)
    if rustc_args and cmd[1] == "rustc":
        cmd += ["--", *rustc_args]
    return cmd


def platform_tag(interp: Optional[Interpreter] = None) -> str:
    """The plain platform tag of the build machine (``linux_x86_64``, ``win_amd64``, ...)."""
    plat = interp.platform if interp is not None else sysconfig.get_platform()
    return plat.replace("-", "_").replace(".", "_").replace(" ", "_")
