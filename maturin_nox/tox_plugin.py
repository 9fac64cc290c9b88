"""tox 4 plugin: a ``maturin`` run environment whose package is built by the maturin-nox engine.

``runner = maturin`` in a tox environment replaces tox's ``.pkg`` environment
(an isolated PEP 517 backend in a subprocess, one wheel for the ``.pkg``
interpreter) with an in-process call to :func:`maturin_nox.build` for the
environment's own base interpreter, so every environment gets a wheel with its
own tags, and cargo's per-interpreter target directories make a rebuild of an
unchanged crate a no-op. ``package = editable`` installs through
:func:`maturin_nox.develop` instead. Dependencies and extras install through
tox's own installer, exactly as with tox's default runner.

This is the only module that imports tox; it holds no build logic.
"""

from __future__ import annotations

import hashlib
import logging
import os
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from tox.plugin import impl
from tox.tox_env.errors import Fail
from tox.tox_env.python.package import WheelPackage
from tox.tox_env.python.virtual_env.package.util import dependencies_with_extras
from tox.tox_env.python.virtual_env.runner import VirtualEnvRunner
from tox.tox_env.register import ToxEnvRegister
from tox.tox_env.runner import RunToxEnv

from .builder import build, open_project
from .common import TARGET_DIR_ENV
from .errors import MaturinNoxError
from .options import BuildOptions
from .project import Project
from .wheel import escape_name

__all__ = ["MaturinRunner", "tox_register_tox_env"]

log = logging.getLogger(__name__)

RUNNER = "maturin"
WHEELS_DIR = ".maturin-wheels"  # inside tox's work dir (.tox), shared by the environments
PACKAGE_TYPES = ("wheel", "editable", "deps-only", "skip", "external")
_CACHE = "MaturinRunner"  # our section in the environment's .tox-info.json
INSTALLED_MARKER = ".maturin-nox-installed"  # in the env dir: "<wheel name> <sha256>"


@impl
def tox_register_tox_env(register: ToxEnvRegister) -> None:
    """Make ``runner = maturin`` available."""
    register.add_run_env(MaturinRunner)


class MaturinRunner(VirtualEnvRunner):
    """A virtualenv run environment whose package is built in-process by maturin-nox."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._maturin_wheel: Optional[Path] = None

    @staticmethod
    def id() -> str:
        """The ``runner`` value that selects this environment type."""
        return RUNNER

    def register_config(self) -> None:
        """Add the maturin-specific keys next to tox's own."""
        super().register_config()
        self.conf.add_config(
            keys=["maturin_manifest_path"],
            of_type=str,
            default="",
            desc="Cargo.toml of the crate to build (default: found from package_root)",
        )
        self.conf.add_config(
            keys=["maturin_target_dir"],
            of_type=str,
            default="",
            desc=f"cargo target directory (${TARGET_DIR_ENV} wins when set; default: the crate's own)",
        )
        self.conf.add_config(
            keys=["maturin_features"],
            of_type=List[str],
            default=[],
            desc="cargo features to enable",
        )
        self.conf.add_config(
            keys=["maturin_release"],
            of_type=bool,
            default=False,
            desc="build with the release profile instead of dev",
        )
        self.conf.add_config(
            keys=["maturin_compatibility"],
            of_type=str,
            default="",
            desc="platform tag policy, e.g. linux or manylinux_2_28 (default: the engine's)",
        )

    # --- packaging: no .pkg environment, we build ourselves ---------------------------------

    def _register_package_conf(self) -> bool:
        """Define ``package`` (wheel by default) and ask tox for no packaging environment."""
        if "package" in self.conf:
            return False
        desc = f"package installation mode - {' | '.join(PACKAGE_TYPES)}"
        # RunToxEnv's part: skipsdist / skip_install mean nothing is packaged at all.
        if not RunToxEnv._register_package_conf(self):
            self.conf.add_constant(["package"], desc, "skip")
            return False
        if getattr(self.options, "install_pkg", None) is not None:
            self.conf.add_constant(["package"], desc, "external")
            return False
        self.conf.add_config(
            keys=["use_develop", "usedevelop"], desc="use develop mode", default=False, of_type=bool
        )
        if self.conf["use_develop"] or getattr(self.options, "develop", False):
            self.conf.add_constant(["package"], desc, "editable")
        else:
            self.conf.add_config(keys="package", of_type=str, default="wheel", desc=desc)
        return False

    @property
    def pkg_type(self) -> str:
        """The configured ``package`` value, checked against what this runner can do."""
        self._register_package_conf()
        value = str(self.conf["package"])
        if value not in PACKAGE_TYPES:
            raise Fail(
                f"package = {value} is not supported with runner = {RUNNER}; "
                f"use one of {', '.join(PACKAGE_TYPES)}"
            )
        return value

    @property
    def environment_variables(self) -> Dict[str, str]:
        """tox's variables, plus TOX_PACKAGE naming the installed wheel as tox does."""
        env: Dict[str, str] = super().environment_variables
        if self._maturin_wheel is not None:
            env["TOX_PACKAGE"] = str(self._maturin_wheel)
        return env

    def _setup_with_env(self) -> None:
        """Install the package (after deps, before extra_setup_commands)."""
        if getattr(self.options, "skip_pkg_install", False) or getattr(
            self.options, "skip_env_install", False
        ):
            logging.warning("skip building and installing the package")
        else:
            self._maturin_setup()
        super()._setup_with_env()

    def _maturin_setup(self) -> None:
        """Build and install the package the way ``package`` asks for."""
        kind = self.pkg_type
        if kind == "skip":
            return
        try:
            options = self._maturin_options()
            project = open_project(options)  # cargo metadata, once for the whole setup
            deps = self._maturin_package_deps(project)
            if kind == "deps-only":
                self._install(deps, _CACHE, "package_deps")
            elif kind == "editable":
                self._maturin_develop(deps, options, project)
            elif kind == "external":
                self._maturin_install(Path(str(self.options.install_pkg)), deps, "installed")
            else:
                wheel, fresh = self._maturin_build(options, project)
                self._maturin_install(wheel, deps, "built" if fresh else "reused")
        except MaturinNoxError as exc:
            # One sentence, no traceback: tox reports "<env>: failed with ..." and moves on.
            # The engine's hints name CLI flags; here the same knob is a tox key.
            message = str(exc).replace("pass -m/--manifest-path", "set maturin_manifest_path")
            raise Fail(f"maturin-nox: {message}") from None

    # --- the engine calls -----------------------------------------------------------------

    def _maturin_options(self) -> BuildOptions:
        """BuildOptions from the environment's config and the plugin process's environment."""
        root = Path(self.core["tox_root"])
        manifest = str(self.conf["maturin_manifest_path"])
        # Like CARGO_TARGET_DIR over build.target-dir, the environment variable wins: it is how a
        # CI job or a test suite shares one cargo cache across projects. Read here, in the tox
        # process, because tox does not pass it into the environments.
        target = os.environ.get(TARGET_DIR_ENV) or str(self.conf["maturin_target_dir"])
        return BuildOptions(
            manifest_path=(root / manifest) if manifest else None,
            cwd=Path(self.core["package_root"]),
            # The base interpreter, not the venv's: builds are shared across environments.
            interpreters=(str(self.base_python.extra["executable"]),),
            target_dir=(root / target) if target else None,
            features=tuple(self.conf["maturin_features"]),
            release=bool(self.conf["maturin_release"]),
            compatibility=tuple(str(self.conf["maturin_compatibility"]).split()),
        )

    def _maturin_package_deps(self, project: Project) -> List[Requirement]:
        """The package's Requires-Dist for the configured extras, as tox's .pkg env gives them."""
        meta = HeaderParser().parsestr(project.metadata.metadata_text)
        requires: List[Requirement] = []
        for line in meta.get_all("Requires-Dist") or []:
            try:
                requires.append(Requirement(line))
            except InvalidRequirement:
                raise Fail(f"Requires-Dist {line!r} of {project.name} is not valid") from None
        extras = set(self.conf["extras"])
        return list(dependencies_with_extras(requires, extras, project.name))

    def _maturin_build(self, options: BuildOptions, project: Project) -> Tuple[Path, bool]:
        """Build this environment's wheel; ``fresh`` is False when the one there was kept.

        The wheels live in one folder shared by the environments, so the engine's
        reuse check sees last run's wheel: an unchanged build writes nothing.
        """
        wheels = Path(self.core["work_dir"]) / WHEELS_DIR
        built = build(options.replace(out_dir=wheels), project=project)
        if len(built) != 1:
            raise Fail(f"maturin-nox built {len(built)} wheels for one interpreter")
        return built[0].path, not built[0].reused

    def _maturin_install(self, wheel: Path, deps: List[Requirement], verb: str) -> None:
        """Install the wheel with tox's installer unless this very wheel is installed already."""
        self._maturin_wheel = wheel
        # Our own marker rather than tox's .tox-info.json: tox's installer rewrites that
        # file while we would be holding it open, and the marker is written only on success.
        marker = self.env_dir / INSTALLED_MARKER
        state = f"{wheel.name} {_sha256(wheel)}\n"
        if _read(marker) == state and self._maturin_installed(wheel):
            log.warning("maturin-nox %s %s (already installed)", verb, wheel.name)
            self._install(deps, _CACHE, "package_deps")
        else:
            log.warning("maturin-nox %s %s", verb, wheel.name)
            marker.unlink(missing_ok=True)  # a failed install must not look installed
            self._install([WheelPackage(wheel, deps)], _CACHE, "package")
            marker.write_text(state, encoding="utf-8")
        self._maturin_journal(wheel)

    def _maturin_installed(self, wheel: Path) -> bool:
        """Whether the wheel's .dist-info is in the environment (someone may have removed it)."""
        name, version = wheel.name.split("-")[:2]
        site = Path(self.env_site_package_dir())
        return (site / f"{escape_name(name)}-{version}.dist-info" / "RECORD").is_file()

    def _maturin_journal(self, wheel: Path) -> None:
        """Record the installed wheel in tox's result journal (``--result-json``)."""
        if self.journal:
            self.journal["installpkg"] = {
                "basename": wheel.name,
                "type": "file",
                "sha256": _sha256(wheel),
            }

    def _maturin_develop(
        self, deps: List[Requirement], options: BuildOptions, project: Project
    ) -> None:
        """Editable install through maturin-nox's develop; deps go through tox first."""
        from .dev_install import develop

        self._install(deps, _CACHE, "package_deps")
        # A develop install replaces whatever wheel was there: a later wheel run must reinstall.
        (self.env_dir / INSTALLED_MARKER).unlink(missing_ok=True)
        result = develop(
            options,
            project=project,
            extras=sorted(self.conf["extras"]),
            env_path=self.env_dir,
            groups=(),  # tox installs dependency groups itself (its dependency_groups key)
        )
        what = f"{result.name}-{result.version}"
        mode = "editable" if result.editable else "develop"
        if result.changed:
            log.warning("maturin-nox installed %s (%s)", what, mode)
        else:
            log.warning("maturin-nox reused %s (%s, up to date)", what, mode)


def _read(path: Path) -> str:
    """A small text file's content, or "" when it is missing."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _sha256(path: Path) -> str:
    """The file's sha256, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
