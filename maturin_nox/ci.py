"""CI configuration: a GitHub Actions workflow that runs the project's nox sessions.

The jobs run the sessions a developer runs locally. ``build``: a matrix of
platforms (an operating system and an architecture, each on GitHub's native
runner) and every CPython the project's ``requires-python`` allows builds the
wheels with ``nox -s build``, rustc running through sccache on the GitHub
Actions cache, and keeps each wheel as an artifact. ``test``: one job per wheel
(per interpreter, for an abi3 wheel) downloads it, audits and tests it, and keeps
the recorded results. ``sdist`` builds the source distribution. ``release``, on
a tag, collects every wheel, the sdist and the results, runs the publish gate
(``maturin-nox gate``) and uploads only if everything passed.

``[tool.maturin.generate-ci.github]`` is read as maturin's ``generate-ci`` reads
it: its platform tables choose the platforms (their ``targets`` and ``[[target]]``
the architectures, each on its native runner), ``runner``, ``args`` and
``manylinux`` shape each platform's jobs, and ``pytest``, ``zig``,
``skip-attestation``, ``trusted-publishing``, ``publishing-environment`` and
``args`` the rest. What has no counterpart here (containers, cross targets,
rustup settings) is named in a warning. The command's flags win over the table.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .config import GitHubCI, PlatformCI
from .errors import ConfigError

__all__ = [
    "DEFAULT_PLATFORMS",
    "KNOWN_PYTHONS",
    "PLATFORMS",
    "PUBLISH_MODES",
    "WorkflowOptions",
    "github_workflow",
    "supported_pythons",
    "workflow_options",
]

# The CPython minor versions a generated workflow may test (setup-python has them all).
KNOWN_PYTHONS: Tuple[str, ...] = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
# A platform is an OS and an architecture, built natively on GitHub's runner for it: the
# engine tags a wheel for the interpreter it builds with, so another architecture needs
# that architecture's interpreter, not a cross-compiler.
PLATFORMS: Dict[str, str] = {
    "linux-x86_64": "ubuntu-latest",
    "linux-aarch64": "ubuntu-24.04-arm",
    "macos-aarch64": "macos-latest",
    "macos-x86_64": "macos-15-intel",
    "windows-x86_64": "windows-latest",
    "windows-aarch64": "windows-11-arm",
}
DEFAULT_PLATFORMS: Tuple[str, ...] = ("linux-x86_64", "macos-aarch64", "windows-x86_64")
PUBLISH_MODES: Tuple[str, ...] = ("trusted", "token")
_WHEEL_DIR = "target/wheels"
_RESULTS = ".maturin-nox-results.json"
_SCCACHE_ACTION = "mozilla-actions/sccache-action@v0.0.9"
_CI_KEY = "tool.maturin.generate-ci.github"
# maturin's platform tables, and the architectures of each that a GitHub runner builds
# natively (maturin's names for them: x64 on Windows, arm64 is aarch64)
_OS_ARCHES: Dict[str, Dict[str, str]] = {
    "linux": {"x86_64": "linux-x86_64", "aarch64": "linux-aarch64"},
    "macos": {"x86_64": "macos-x86_64", "aarch64": "macos-aarch64", "arm64": "macos-aarch64"},
    "windows": {"x64": "windows-x86_64", "x86_64": "windows-x86_64", "aarch64": "windows-aarch64"},
}
# platform-table keys that shape maturin's jobs but have no counterpart in these
_NO_COUNTERPART = (
    "container",
    "docker-options",
    "rust-toolchain",
    "rustup-components",
    "before-script-linux",
)

log = logging.getLogger("maturin_nox")


@dataclass(frozen=True)
class WorkflowOptions:
    """What a generated workflow depends on."""

    pythons: Tuple[str, ...]
    abi3: bool = False
    publish: str = "trusted"  # "trusted" (OIDC trusted publishing) or "token" (PYPI_API_TOKEN)
    platforms: Tuple[str, ...] = DEFAULT_PLATFORMS
    zig: bool = False  # Linux wheels linked with zig for manylinux2014 (glibc 2.17)
    sccache: bool = True  # rustc through sccache on the GitHub Actions cache
    runners: Tuple[Tuple[str, str], ...] = ()  # platform -> runner, where not GitHub's own
    platform_args: Tuple[Tuple[str, str], ...] = ()  # platform -> more build arguments
    build_args: Tuple[str, ...] = ()  # more arguments for every build
    test: bool = True  # run the test session on each wheel (generate-ci's pytest)
    attest: bool = False  # attest the released files' build provenance (skip-attestation = false)
    environment: Optional[str] = None  # the release job's environment ("pypi" when trusted)

    def runner(self, platform: str) -> str:
        """The runner the platform's jobs run on."""
        return dict(self.runners).get(platform, PLATFORMS.get(platform, ""))


def supported_pythons(
    requires_python: Optional[str], *, source: str = "requires-python"
) -> List[str]:
    """The known CPython minor versions a ``requires-python`` specifier allows."""
    if not requires_python:
        return list(KNOWN_PYTHONS)
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise ConfigError(
            f"{source}: {requires_python!r} is not a valid version specifier.",
            key="requires-python",
        ) from None
    # A minor version counts when any of its patch releases satisfies the specifier
    # (">=3.8.1" still means 3.8, "!=3.9.*" rules out every 3.9).
    allowed = [
        v for v in KNOWN_PYTHONS if any(spec.contains(f"{v}.{patch}") for patch in range(100))
    ]
    if not allowed:
        raise ConfigError(
            f"{source}: requires-python {requires_python!r} allows none of CPython "
            f"{', '.join(KNOWN_PYTHONS)}.",
            key="requires-python",
        )
    return allowed


def workflow_options(
    manifest_path: Optional[Path] = None,
    *,
    cwd: Optional[Path] = None,
    publish: Optional[str] = None,
    platforms: Optional[Sequence[str]] = None,
    zig: Optional[bool] = None,
    sccache: bool = True,
) -> WorkflowOptions:
    """The workflow options for the project at ``manifest_path`` (or found from ``cwd``).

    ``[tool.maturin.generate-ci.github]`` is read as maturin reads it; the arguments
    (the command's flags), where given, win: ``publish`` over ``trusted-publishing``,
    ``platforms`` over the platform tables, ``zig`` over ``zig``.
    """
    from .project import load_project

    project = load_project(manifest_path, cwd=cwd)
    source = str(project.pyproject_path or project.manifest_path)
    requires = project.metadata.requires_python
    pythons = supported_pythons(str(requires) if requires else None, source=source)
    options = WorkflowOptions(tuple(pythons), abi3=project.bindings.abi3, sccache=sccache)
    config = project.config.generate_ci
    if config is not None:
        options = _from_config(options, config, source)
    if publish is not None:
        options = replace(options, publish=publish)
    if platforms:
        chosen = tuple(dict.fromkeys(platforms))
        options = replace(
            options,
            platforms=chosen,
            runners=tuple((p, r) for p, r in options.runners if p in chosen),
            platform_args=tuple((p, a) for p, a in options.platform_args if p in chosen),
        )
    if zig is not None:
        options = replace(options, zig=zig)
    return options


def _from_config(base: WorkflowOptions, config: GitHubCI, source: str) -> WorkflowOptions:
    """maturin's generate-ci settings mapped onto this workflow; what has no counterpart warns."""
    platforms: List[str] = []
    runners: Dict[str, str] = {}
    platform_args: Dict[str, str] = {}
    for name, table in config.platforms.items():
        if name not in _OS_ARCHES:
            log.warning(
                f"{source}: {_CI_KEY}.{name} has no counterpart in maturin-nox's workflow, whose "
                "jobs build natively with the nox sessions on Linux, macOS and Windows runners; "
                "it is ignored."
            )
            continue
        for key in _NO_COUNTERPART:
            if key in table.overrides:
                log.warning(
                    f"{source}: {_CI_KEY}.{name}.{key} has no counterpart in maturin-nox's "
                    "workflow (each job builds on its runner with the nox sessions); it is ignored."
                )
        for platform, overrides in _config_platforms(name, table, source):
            platforms.append(platform)
            if "runner" in overrides:
                runners[platform] = overrides["runner"]
            args = [overrides["args"]] if overrides.get("args") else []
            manylinux = overrides.get("manylinux")
            if name == "linux" and manylinux and manylinux != "auto":
                args.append(f"--compatibility {manylinux}")
            if args:
                platform_args[platform] = " ".join(args)
    trusted = config.trusted_publishing in (None, True)
    return replace(
        base,
        publish="trusted" if trusted else "token",
        platforms=tuple(dict.fromkeys(platforms)) or base.platforms,
        runners=tuple(runners.items()),
        platform_args=tuple(platform_args.items()),
        zig=bool(config.zig),
        build_args=tuple(config.args.split()) if config.args else (),
        test=config.pytest is not False,
        # maturin attests unless told to skip; here only when asked (skip-attestation = false),
        # so a workflow stays within what actionlint 1.6 knows (no attestations permission)
        attest=config.skip_attestation is False,
        environment=config.publishing_environment,
    )


def _config_platforms(
    name: str, table: PlatformCI, source: str
) -> List[Tuple[str, Mapping[str, str]]]:
    """The platforms one of maturin's platform tables stands for, with their overrides.

    ``targets`` (or ``[[target]]``, whose entries override the table's keys) name
    architectures; each that a GitHub runner builds natively is a platform, the
    others are named in a warning. Without either, the OS's default platform.
    """
    arches = _OS_ARCHES[name]
    entries: List[Mapping[str, str]]
    if table.target:
        entries = list(table.target)
    elif table.targets:
        entries = [{"arch": arch} for arch in table.targets]
    else:
        default = next(p for p in DEFAULT_PLATFORMS if p.startswith(f"{name}-"))
        return [(default, dict(table.overrides))]
    chosen: List[Tuple[str, Mapping[str, str]]] = []
    for entry in entries:
        arch = entry["arch"]
        if arch not in arches:
            log.warning(
                f"{source}: {_CI_KEY}.{name} target {arch!r} has no native GitHub runner, and "
                "maturin-nox's jobs build natively (no cross compilation); it is ignored."
            )
            continue
        overrides = {**table.overrides, **{k: v for k, v in entry.items() if k != "arch"}}
        chosen.append((arches[arch], overrides))
    return chosen


def _quoted(items: Sequence[str]) -> str:
    """A YAML flow list of double-quoted strings (so 3.10 stays "3.10", not 3.1)."""
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def _matrix(options: WorkflowOptions, pythons: Sequence[str], *, build: bool) -> List[str]:
    """Platforms times Pythons, each platform's runner (and build flags) added by ``include``."""
    lines = [
        "    strategy:",
        "      fail-fast: false",
        "      matrix:",
        f"        platform: {_quoted(options.platforms)}",
        f"        python: {_quoted(pythons)}",
        "        include:",
    ]
    extra = dict(options.platform_args)
    for platform in options.platforms:
        lines += [
            f"          - platform: {platform}",
            f"            runner: {options.runner(platform)}",
        ]
        if build:
            zig = options.zig and platform.startswith("linux-")  # as maturin: manylinux only
            args = " ".join(filter(None, [extra.get(platform), "--zig" if zig else ""]))
            lines.append(f"            build_args: {json.dumps(args)}")
    return lines


def _setup(python: str) -> List[str]:
    return [
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {python}",
    ]


def _wheel_artifact(options: WorkflowOptions) -> str:
    """Each build job's artifact: one per platform and Python, or per platform for abi3."""
    if options.abi3:
        return "wheels-${{ matrix.platform }}-abi3"
    return "wheels-${{ matrix.platform }}-${{ matrix.python }}"


def _build_job(options: WorkflowOptions) -> List[str]:
    """The matrix job that builds the wheels (through sccache) and keeps each one."""
    # Every Python builds the same abi3 wheel: the lowest builds it, every one tests it.
    pythons = options.pythons[:1] if options.abi3 else options.pythons
    package = "'maturin-nox[zig]'" if options.zig else "maturin-nox"
    lines = [
        "  build:",
        "    name: build (${{ matrix.platform }}, Python ${{ matrix.python }})",
        "    runs-on: ${{ matrix.runner }}",
        *_matrix(options, pythons, build=True),
    ]
    if options.sccache:
        lines += [
            "    env:",
            "      # rustc runs through sccache, which keeps what it compiles in the GitHub Actions",
            "      # cache: a crate one job compiled is fetched by the others and by the next run.",
            '      SCCACHE_GHA_ENABLED: "true"',
            "      # Tags build from scratch, so no cached object can reach a release (as maturin's",
            "      # generated workflow does).",
            "      MATURIN_NOX_SCCACHE: ${{ startsWith(github.ref, 'refs/tags/') && '0' || '1' }}",
        ]
    lines += _setup("${{ matrix.python }}")
    if options.sccache:
        lines += [
            "      # Installs sccache, exports SCCACHE_PATH and the cache service's URL and token.",
            f"      - uses: {_SCCACHE_ACTION}",
        ]
    lines += [
        "      - name: Install nox and maturin-nox",
        f"        run: python -m pip install nox {package}",
        "      # -P python: this job's Python (from setup-python) instead of the noxfile's list.",
        "      - name: Build the wheel",
        "        run: "
        + " ".join(["nox -P python -s build -- --release", *options.build_args])
        + " ${{ matrix.build_args }}",
        "      - name: Keep the wheel",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        f"          name: {_wheel_artifact(options)}",
        f"          path: {_WHEEL_DIR}/*.whl",
        "          if-no-files-found: error",
    ]
    return lines


def _test_job(options: WorkflowOptions) -> List[str]:
    """One job per wheel and interpreter: audit it, test it, keep the recorded results."""
    test = ["      - name: Test the installed wheel", "        run: nox -P python -s test"]
    return [
        "  test:",
        "    name: test (${{ matrix.platform }}, Python ${{ matrix.python }})",
        "    needs: [build]",
        "    runs-on: ${{ matrix.runner }}",
        *_matrix(options, options.pythons, build=False),
        *_setup("${{ matrix.python }}"),
        "      - name: Install nox and maturin-nox",
        "        run: python -m pip install nox maturin-nox",
        "      - name: Fetch the wheel",
        "        uses: actions/download-artifact@v4",
        "        with:",
        f"          name: {_wheel_artifact(options)}",
        f"          path: {_WHEEL_DIR}",
        "      - name: Audit the wheel",
        "        run: nox -P python -s audit",
        *(test if options.test else []),
        "      - name: Keep the results for the publish gate",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        "          name: results-${{ matrix.platform }}-${{ matrix.python }}",
        f"          path: {_WHEEL_DIR}/{_RESULTS}",
        "          include-hidden-files: true",
        "          if-no-files-found: error",
    ]


def _sdist_job() -> List[str]:
    """The job that builds the source distribution."""
    return [
        "  sdist:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        '          python-version: "3.x"',
        "      - name: Install nox and maturin-nox",
        "        run: python -m pip install nox maturin-nox",
        "      - name: Build the sdist",
        "        run: nox -s sdist",
        "      - name: Keep the sdist",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        "          name: sdist",
        f"          path: {_WHEEL_DIR}/*.tar.gz",
        "          if-no-files-found: error",
    ]


def _release_job(options: WorkflowOptions) -> List[str]:
    """On a tag: collect every file and result, run the publish gate, upload only if it passed."""
    head = [
        "  release:",
        "    name: Release",
        "    runs-on: ubuntu-latest",
        "    if: startsWith(github.ref, 'refs/tags/')",
        "    needs: [test, sdist]",
    ]
    gate = [
        "      - uses: actions/setup-python@v5",
        "        with:",
        '          python-version: "3.x"',
        "      - name: Install maturin-nox",
        "        run: python -m pip install maturin-nox",
        "      - name: Collect the wheels",
        "        uses: actions/download-artifact@v4",
        "        with:",
        "          pattern: wheels-*",
        "          path: dist",
        "          merge-multiple: true",
        "      - name: Collect the sdist",
        "        uses: actions/download-artifact@v4",
        "        with:",
        "          name: sdist",
        "          path: dist",
        "      - name: Collect the audit and test results",
        "        uses: actions/download-artifact@v4",
        "        with:",
        "          pattern: results-*",
        "          path: results",
        "      # Every wheel needs a passing audit and passing tests recorded for its exact",
        "      # bytes, and every file must pass twine's check; otherwise nothing is uploaded.",
        "      - name: Run the publish gate",
        "        run: maturin-nox gate dist --merge results"
        + ("" if options.test else " --allow-untested"),
    ]
    if options.attest:
        gate += [
            "      - name: Attest the build provenance of the released files",
            "        uses: actions/attest-build-provenance@v2",
            "        with:",
            "          subject-path: dist/*",
        ]
    if options.publish == "token":
        environment = [f"    environment: {options.environment}"] if options.environment else []
        permissions = [
            "    permissions:",
            "      # Attestations: signed with this workflow's OIDC token.",
            "      id-token: write",
            "      attestations: write",
        ]
        return [
            *head,
            *environment,
            *(permissions if options.attest else []),
            "    steps:",
            *gate,
            "      - name: Publish to PyPI",
            "        run: maturin-nox upload --non-interactive --skip-existing dist/*",
            "        env:",
            "          MATURIN_PYPI_TOKEN: ${{ secrets.PYPI_API_TOKEN }}",
        ]
    return [
        *head,
        f"    environment: {options.environment or 'pypi'}",
        "    permissions:",
        "      # Trusted publishing: PyPI trusts this workflow's OIDC token, no secret needed.",
        "      id-token: write",
        *(["      attestations: write"] if options.attest else []),
        "    steps:",
        *gate,
        "      - name: Publish to PyPI",
        "        uses: pypa/gh-action-pypi-publish@release/v1",
        "        with:",
        "          packages-dir: dist/",
    ]


def github_workflow(options: WorkflowOptions) -> str:
    """The workflow YAML: build and test matrix, sdist, and a gated release job."""
    if options.publish not in PUBLISH_MODES:
        raise ConfigError(
            f"Unknown publish mode {options.publish!r}; use one of {', '.join(PUBLISH_MODES)}.",
            key="publish",
        )
    if not options.pythons:
        raise ConfigError("The workflow needs at least one Python version.", key="python")
    unknown = [p for p in options.platforms if p not in PLATFORMS]
    if unknown or not options.platforms:
        raise ConfigError(
            f"Unknown platform {unknown[0] if unknown else ''!r}; use one of "
            f"{', '.join(PLATFORMS)}.",
            key="platform",
        )
    from . import __version__

    publish_how = (
        "PyPI trusted publishing (set it up for this repository and the "
        f"`{options.environment or 'pypi'}` environment)"
        if options.publish == "trusted"
        else "an upload with the PYPI_API_TOKEN repository secret"
    )
    lines = [
        f"# Generated by maturin-nox {__version__}: maturin-nox generate-ci github",
        "#",
        "# build:   a wheel per platform and Python, with the project's nox sessions"
        + (" (rustc through" if options.sccache else ""),
        *(["#          sccache on the GitHub Actions cache)"] if options.sccache else []),
        "# test:    each wheel audited"
        + (" and tested" if options.test else "")
        + " in a job of its own, results kept",
        "# sdist:   the source distribution",
        "# release: on a tag, the publish gate over every file and its recorded results,",
        f"#          then {publish_how}",
        "name: CI",
        "",
        "on:",
        "  push:",
        "    branches:",
        "      - main",
        "      - master",
        "    tags:",
        "      - '*'",
        "  pull_request:",
        "  workflow_dispatch:",
        "",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
        *_build_job(options),
        "",
        *_test_job(options),
        "",
        *_sdist_job(),
        "",
        *_release_job(options),
    ]
    return "\n".join(lines) + "\n"
