"""``develop``: build the crate for the environment you work in and install it there.

A mixed Rust/Python project installs editable, as maturin does: a ``.pth`` file
puts the python-source folder on ``sys.path`` (Python edits are live) and what
the build generated inside the package (the extension module, cffi/uniffi
glue) is placed in the source tree next to the sources. A pure Rust project
installs as a normal wheel. Either way ``direct_url.json`` marks the install
editable and points at the project.

The payload comes from :func:`maturin_nox.payload.wheel_payload` (no audit
for a local install), its editable form from
:func:`maturin_nox.payload.editable`; :mod:`maturin_nox.install` writes it into
the environment, or the wheel writer makes it the PEP 660 wheel of
``build_editable``. pip or uv only runs when a dependency is missing.
"""

from __future__ import annotations

import dataclasses
import email.parser
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import layout
from .atomic import publish_mode
from .builder import compile_target, open_project, target_lock
from .common import Source
from .compression import FAST
from .errors import BuildError, VenvError
from .install import Scheme, env_scheme, install_payload
from .interpreters import Interpreter, probe
from .options import BuildOptions, merge_options
from .payload import Editable, dist_info_files, editable, wheel_payload
from .plan import BuildTarget, Plan, resolve_plan
from .project import Project
from .rebuild import Runner, finder_files
from .venv import VirtualEnv, find_active_env, open_env
from .wheel import write_payload

__all__ = [
    "DevelopResult",
    "build_editable_wheel",
    "develop",
    "develop_payload",
    "find_environment",
]

log = logging.getLogger("maturin_nox")

NO_ENV = (
    "No virtual environment found: activate one, set VIRTUAL_ENV, "
    "or create one with `python3 -m venv .venv`."
)


# --- the payload of a development install -----------------------------------------------


def _same_file(dest: Path, source: Path) -> bool:
    try:
        have, new = dest.stat(), source.stat()
    except OSError:
        return False
    return have.st_size == new.st_size and have.st_mtime_ns == new.st_mtime_ns


def _same_bytes(dest: Path, data: bytes) -> bool:
    try:
        return dest.stat().st_size == len(data) and dest.read_bytes() == data
    except OSError:
        return False


def _place(dest: Path, source: Source) -> bool:
    """Put a build output into the source tree unless the same one is already there."""
    if _same_file(dest, source) if isinstance(source, Path) else _same_bytes(dest, source):
        return False
    # Write beside and rename: a Python process that has the old module mapped keeps
    # its inode instead of crashing on a file rewritten under it.
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".maturin-nox.tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if isinstance(source, Path):
            shutil.copy2(source, tmp)  # keeps the mtime, which the next run compares
        else:
            tmp.write_bytes(source)
            publish_mode(tmp)  # mkstemp made it 0600
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info(f"📦 Copied {dest.name} into the source tree at {dest.parent}")
    return True


def place_in_tree(project: Project, in_tree: Mapping[Path, Source]) -> List[Path]:
    """Write the generated files of an editable install beside the sources; the ones written."""
    placed = [dest for dest, source in in_tree.items() if _place(dest, source)]
    ignored = layout.git_ignored(project.root, placed)
    for path in placed:  # build outputs in the source tree should not be committed: say so
        if path not in ignored:
            log.info(
                f"💡 Add {path.name} to .gitignore (e.g. a `*.so` line): it is a build output."
            )
    return placed


def _single_target(plan: Plan) -> BuildTarget:
    if len(plan.targets) != 1:
        raise BuildError(
            f"An editable install is for one interpreter, but {len(plan.targets)} were asked for; "
            "pass a single -i/--interpreter."
        )
    return plan.targets[0]


def develop_payload(plan: Plan, target: BuildTarget, runner: Optional[Runner] = None) -> Editable:
    """Compile the target and lay out its install; mixed projects get the editable form.

    With a ``runner``, the install rebuilds itself when an input changes (see
    :mod:`maturin_nox.rebuild`). The generated files of the editable form are
    written into the source tree here.
    """
    project = plan.project
    output = compile_target(plan, target)
    dist_info = dist_info_files(project, plan.sbom_include, plan.path_remap)
    payload = wheel_payload(plan, target, output, dist_info=dist_info, audit=False)
    if runner is not None:
        finder = finder_files(plan, target, output, runner)
        payload = dataclasses.replace(payload, files={**payload.files, **finder})
    result = editable(project, payload)
    place_in_tree(project, result.in_tree)
    return result


def build_editable_wheel(
    options: BuildOptions,
    out_dir: Path,
    *,
    project: Optional[Project] = None,
    runner: Optional[Runner] = None,
) -> Path:
    """Build the PEP 660 editable wheel (one interpreter) into ``out_dir``."""
    options = options.replace(editable=True)
    plan = resolve_plan(project or open_project(options), options)
    target = _single_target(plan)
    with target_lock(plan, target):
        result = develop_payload(plan, target, runner)
        path = write_payload(result.payload, out_dir, compression=plan.compression)
    log.info(f"📦 Built editable wheel to {path}")
    return path


# --- dependencies --------------------------------------------------------------------------


def _marker_env(interp: Interpreter) -> Dict[str, str]:
    """PEP 508 marker values for the environment's interpreter (same machine as ours)."""
    from packaging.markers import default_environment

    env: Dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    full = ".".join(str(p) for p in interp.version)
    env.update(
        python_version=f"{interp.major}.{interp.minor}",
        python_full_version=full,
        implementation_name=interp.implementation,
        implementation_version=full
        if interp.implementation == "cpython"
        else env["implementation_version"],
        platform_python_implementation=interp.implementation_name,
    )
    return env


def _wanted(
    project: Project, interp: Interpreter, extras: Sequence[str], groups: Sequence[str] = ()
) -> List[str]:
    """The Requires-Dist that apply to this interpreter and these extras, then the
    dependency groups' requirements that apply (PEP 735), markers dropped."""
    from packaging.requirements import InvalidRequirement, Requirement

    meta = email.parser.HeaderParser().parsestr(project.metadata.metadata_text)
    known = set(meta.get_all("Provides-Extra") or [])
    for extra in extras:
        if extra not in known:
            log.warning(
                f"{project.name} has no extra {extra!r} (it has: {', '.join(sorted(known)) or 'none'})."
            )
    env = _marker_env(interp)
    chosen: List[str] = []
    for line in meta.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise BuildError(
                f"Requires-Dist {line!r} of {project.name} is not a valid requirement."
            ) from None
        if req.marker is not None and not any(
            req.marker.evaluate({**env, "extra": extra}) for extra in ("", *extras)
        ):
            continue
        req.marker = None
        chosen.append(str(req))
    if groups:
        from .groups import group_requirements

        for line in group_requirements(project, groups):
            try:
                req = Requirement(line)
            except InvalidRequirement:
                raise BuildError(
                    f"{project.pyproject_path}: the dependency group requirement {line!r} "
                    "is not a valid requirement."
                ) from None
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            req.marker = None
            if str(req) not in chosen:
                chosen.append(str(req))
    return chosen


def _installed_versions(site: Path) -> Dict[str, str]:
    """Canonical name -> version of everything installed in ``site``."""
    from packaging.utils import canonicalize_name

    out: Dict[str, str] = {}
    try:
        names = os.listdir(site)
    except OSError:
        return out
    for name in names:
        for suffix in (".dist-info", ".egg-info"):
            if name.endswith(suffix) and "-" in name:
                dist, version = name[: -len(suffix)].split("-")[:2]
                out[str(canonicalize_name(dist))] = version
    return out


def _unsatisfied(requirements: Sequence[str], site: Path) -> List[str]:
    """The requirements the environment does not meet at the top level."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    installed = _installed_versions(site)
    missing = []
    for text in requirements:
        req = Requirement(text)
        have = installed.get(str(canonicalize_name(req.name)))
        # Extras and URLs may pull in more than a name check can see: let the installer decide.
        if (
            have is None
            or req.extras
            or req.url
            or not req.specifier.contains(have, prereleases=True)
        ):
            missing.append(text)
    return missing


def _install_dependencies(
    env: VirtualEnv,
    site: Path,
    requirements: Sequence[str],
    uv: Optional[bool],
    pip_args: Sequence[str],
    pip_path: Optional[Path] = None,
) -> Tuple[str, ...]:
    """Install what is missing; returns the requirements handed to the installer.

    ``pip_path`` is a pip executable to install with (``--pip-path``), as maturin runs it.
    """
    missing = _unsatisfied(requirements, site)
    if not missing:
        return ()
    if pip_path is not None and not uv:
        if not Path(pip_path).is_file():
            raise VenvError(f"--pip-path {pip_path} does not exist.")
        install = [str(pip_path), "install"]
    else:
        _, install = env.installer_command(uv=uv, has_pip=(site / "pip").is_dir())
    cmd = install + list(pip_args) + missing
    log.info(f"📦 Installing dependencies: {', '.join(missing)}")
    proc = subprocess.run(cmd, env=env.environ(), stdout=sys.stderr)
    if proc.returncode != 0:
        raise VenvError(
            f"`{' '.join(cmd[:3])} install` of the dependencies failed in {env.path} "
            f"(exit {proc.returncode}); see the output above."
        )
    return tuple(missing)


# --- develop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DevelopResult:
    """What ``develop`` did."""

    env: VirtualEnv
    name: str
    version: str
    editable: bool  # mixed project: .pth to the sources, extension in the source tree
    installed: bool  # False with skip_install
    changed: bool  # False when the same build was already installed: nothing was written
    extension: Optional[Path]  # the extension module placed in the source tree, if any
    dist_info: Optional[Path]
    dependencies: Tuple[str, ...]  # requirements handed to pip/uv (empty when all were met)


def find_environment(
    env_path: Union[str, Path, None] = None, cwd: Optional[Path] = None
) -> VirtualEnv:
    """The environment to install into: ``env_path``, else the active one; VenvError if none."""
    if env_path is None:
        found = find_active_env(cwd)
        if found is None:
            raise VenvError(NO_ENV)
        env_path = found
    return open_env(env_path)


def develop(
    options: Optional[BuildOptions] = None,
    /,
    *,
    project: Optional[Project] = None,
    extras: Sequence[str] = (),
    skip_install: bool = False,
    uv: Optional[bool] = None,
    pip_args: Sequence[str] = (),
    env_path: Union[str, Path, None] = None,
    dependencies: bool = True,
    runner: Optional[Runner] = None,
    groups: Optional[Sequence[str]] = None,
    pip_path: Optional[Path] = None,
    **kwargs: Any,
) -> DevelopResult:
    """Build the crate for the active environment and install it there (editable when mixed).

    ``project`` is the already-loaded project the options point at, if the caller
    has it; ``dependencies=False`` installs none of its requirements; ``runner``
    is what rebuilds the install when an input changes (default: this interpreter).
    ``groups`` are PEP 735 dependency groups whose requirements are installed too
    (comma-separated names allowed); None means maturin's default, the ``dev``
    group when the project has one. ``pip_path`` is the pip to install them with.
    """
    opts = merge_options(options, kwargs)
    compressing = opts.compression_method or opts.compression_level is not None
    if os.name != "nt" and (compressing or opts.compression_large_file):
        log.debug("develop writes the files into the environment itself: no wheel to compress")
    env = find_environment(env_path, opts.cwd)
    project = project or open_project(opts)
    interp = probe(env.python)
    opts = opts.replace(interpreters=(str(env.python),), find_interpreter=False, editable=True)
    plan = resolve_plan(project, opts)
    target = _single_target(plan)
    extras = [e for item in extras for e in item.replace(",", " ").split()]
    chosen_groups = _groups(project, groups)
    scheme = env_scheme(env, interp, project.name)
    deps: Tuple[str, ...] = ()
    if not skip_install and dependencies:
        wanted = _wanted(project, interp, extras, chosen_groups)
        deps = _install_dependencies(env, scheme.purelib, wanted, uv, pip_args, pip_path)
    runner = runner or Runner.this_process()
    with target_lock(plan, target):  # until the library is copied out of the target dir
        return _develop_locked(
            env,
            project,
            plan,
            target,
            scheme,
            deps,
            skip_install=skip_install,
            uv=uv,
            runner=runner,
        )


def _develop_locked(
    env: VirtualEnv,
    project: Project,
    plan: Plan,
    target: BuildTarget,
    scheme: Scheme,
    deps: Tuple[str, ...],
    *,
    skip_install: bool,
    uv: Optional[bool],
    runner: Runner,
) -> DevelopResult:
    """Compile, place the generated files and install, holding the target's lock."""
    result = develop_payload(plan, target, None if skip_install else runner)
    if skip_install:
        if not project.mixed:
            log.warning(
                "--skip-install only builds the extension in place for a mixed Rust/Python project; nothing was installed."
            )
        return DevelopResult(
            env,
            project.name,
            project.version,
            project.mixed,
            False,
            False,
            result.extension,
            None,
            (),
        )
    direct_url = json.dumps(
        {"url": project.root.resolve().as_uri(), "dir_info": {"editable": True}}
    )
    if os.name == "nt":  # pip writes the .exe launchers console scripts need there
        changed = _install_with_installer(result, env, scheme, uv, direct_url)
        dist_info: Optional[Path] = None
    else:
        changed, dist_info = install_payload(result.payload, scheme, direct_url=direct_url)
    if not changed:
        log.info(f"✨ {project.name}-{project.version} is up to date in {env.path}")
    return DevelopResult(
        env,
        project.name,
        project.version,
        project.mixed,
        True,
        changed,
        result.extension,
        dist_info,
        deps,
    )


def _groups(project: Project, groups: Optional[Sequence[str]]) -> List[str]:
    """The dependency groups to install: those named, else ``dev`` when the project has it."""
    if groups is None:
        from .groups import dependency_groups

        return ["dev"] if "dev" in dependency_groups(project) else []
    return [g for item in groups for g in item.replace(",", " ").split()]


def _install_with_installer(
    result: Editable, env: VirtualEnv, scheme: Scheme, uv: Optional[bool], direct_url: str
) -> bool:
    """Install through pip/uv (for Windows launchers), then mark the install editable."""
    with tempfile.TemporaryDirectory(prefix="maturin-nox-develop-") as tmp:
        wheel = write_payload(result.payload, Path(tmp), compression=FAST)
        _, install = env.installer_command(uv=uv, has_pip=(scheme.purelib / "pip").is_dir())
        cmd = [*install, "--no-deps", "--force-reinstall", str(wheel)]
        proc = subprocess.run(cmd, env=env.environ(), stdout=sys.stderr)
    if proc.returncode != 0:
        raise VenvError(f"Installing {wheel.name} into {env.path} failed (exit {proc.returncode}).")
    (scheme.purelib / result.payload.dist_info_dir / "direct_url.json").write_text(
        direct_url, encoding="utf-8"
    )
    return True
