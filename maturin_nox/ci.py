"""CI configuration: a GitHub Actions workflow that runs the project's nox sessions.

Every job runs the same sessions a developer runs locally (``nox -s build``,
``audit``, ``test``, ``sdist``), on Linux, macOS and Windows, for every CPython
the project's ``requires-python`` allows. The release job needs all of them, so
a tag is published only when every wheel built and passed its tests.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .config import GitHubCI
from .errors import ConfigError

__all__ = [
    "KNOWN_PYTHONS",
    "PUBLISH_MODES",
    "RUNNERS",
    "WorkflowOptions",
    "github_workflow",
    "supported_pythons",
    "workflow_options",
]

# The CPython minor versions a generated workflow may test (setup-python has them all).
KNOWN_PYTHONS: Tuple[str, ...] = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
RUNNERS: Tuple[str, ...] = ("ubuntu-latest", "macos-latest", "windows-latest")
PUBLISH_MODES: Tuple[str, ...] = ("trusted", "token")
_WHEEL_DIR = "target/wheels"

log = logging.getLogger("maturin_nox")


@dataclass(frozen=True)
class WorkflowOptions:
    """What a generated workflow depends on."""

    pythons: Tuple[str, ...]
    abi3: bool = False
    publish: str = "trusted"  # "trusted" (OIDC trusted publishing) or "token" (PYPI_API_TOKEN)
    runners: Tuple[str, ...] = RUNNERS
    test: bool = True  # run the test session on each wheel
    attest: bool = False  # attest the released files' build provenance (skip-attestation = false)
    environment: Optional[str] = (
        None  # the release job's environment ("pypi" for trusted publishing)
    )
    build_args: Tuple[str, ...] = ()  # more arguments for every build
    runner_args: Tuple[Tuple[str, str], ...] = ()  # more build arguments on one runner
    zig: bool = False  # the Linux builds use --zig (maturin-nox[zig] is installed there)


# maturin's [tool.maturin.generate-ci.github.<platform>] tables and the runner each stands for
_PLATFORM_RUNNERS = {"linux": "ubuntu-latest", "macos": "macos-latest", "windows": "windows-latest"}
_NO_COUNTERPART = (
    "container",
    "docker-options",
    "rust-toolchain",
    "rustup-components",
    "before-script-linux",
)


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
) -> WorkflowOptions:
    """The workflow options for the project at ``manifest_path`` (or found from ``cwd``).

    ``[tool.maturin.generate-ci.github]`` is read as maturin reads it; ``publish``
    (the ``--publish`` flag) wins over its ``trusted-publishing``.
    """
    from .project import load_project

    project = load_project(manifest_path, cwd=cwd)
    source = str(project.pyproject_path or project.manifest_path)
    requires = project.metadata.requires_python
    pythons = supported_pythons(str(requires) if requires else None, source=source)
    base = WorkflowOptions(tuple(pythons), abi3=project.bindings.abi3)
    config = project.config.generate_ci
    if config is None:
        return replace(base, publish=publish or "trusted")
    return _from_config(base, config, publish, source)


def _from_config(
    base: WorkflowOptions, config: GitHubCI, publish: Optional[str], source: str
) -> WorkflowOptions:
    """maturin's generate-ci settings mapped onto this workflow; what has no counterpart warns."""
    key = "tool.maturin.generate-ci.github"
    if publish is None:
        publish = "trusted" if config.trusted_publishing in (None, True) else "token"
    runners: List[str] = []
    runner_args: List[Tuple[str, str]] = []
    for name, platform in config.platforms.items():
        if name not in _PLATFORM_RUNNERS:
            log.warning(
                f"{source}: {key}.{name} has no counterpart in maturin-nox's workflow, whose jobs "
                "build natively with the nox sessions on Linux, macOS and Windows runners; it is ignored."
            )
            continue
        runner = platform.overrides.get("runner", _PLATFORM_RUNNERS[name])
        runners.append(runner)
        args = []
        if platform.overrides.get("args"):
            args.append(platform.overrides["args"])
        manylinux = platform.overrides.get("manylinux")
        if name == "linux" and manylinux and manylinux != "auto":
            args.append(f"--compatibility {manylinux}")
        if args:
            runner_args.append((runner, " ".join(args)))
        ignored = [k for k in _NO_COUNTERPART if k in platform.overrides]
        ignored += ["targets"] if platform.targets else []
        ignored += ["target"] if platform.target else []
        for item in ignored:
            log.warning(
                f"{source}: {key}.{name}.{item} has no counterpart in maturin-nox's workflow "
                f"(each job builds its runner's own architecture with the nox sessions); it is ignored."
            )
    return replace(
        base,
        publish=publish,
        runners=tuple(dict.fromkeys(runners)) or base.runners,
        test=config.pytest is not False,
        # maturin attests unless told to skip; here only when asked (skip-attestation = false),
        # so a workflow stays within what actionlint 1.6 knows (no attestations permission)
        attest=config.skip_attestation is False,
        environment=config.publishing_environment,
        build_args=tuple(config.args.split()) if config.args else (),
        runner_args=tuple(runner_args),
        zig=bool(config.zig),
    )


def _quoted(items: Sequence[str]) -> str:
    """A YAML flow list of double-quoted strings (so 3.10 stays "3.10", not 3.1)."""
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def _build_job(options: WorkflowOptions) -> List[str]:
    """The matrix job: build, audit and test one wheel per runner and Python."""
    upload_if = ""
    if options.abi3:
        # Every Python builds the same abi3 wheel; one copy per runner is enough.
        upload_if = f"        if: matrix.python == '{options.pythons[0]}'\n"
    runner_args = dict(options.runner_args)
    if options.zig and "ubuntu-latest" in options.runners:  # maturin uses zig for manylinux only
        runner_args["ubuntu-latest"] = " ".join(
            filter(None, [runner_args.get("ubuntu-latest"), "--zig"])
        )
    include: List[str] = []
    if runner_args:
        include = ["        include:"]
        for runner, args in runner_args.items():
            include += [f"          - os: {runner}", f"            extra-args: {json.dumps(args)}"]
    build = " ".join(["nox -P python -s build -- --release", *options.build_args])
    if runner_args:
        build += " ${{ matrix.extra-args }}"
    tool = "maturin-nox[zig]" if options.zig else "maturin-nox"
    test = ["      - name: Test the installed wheel", "        run: nox -P python -s test"]
    return [
        "  build-test:",
        "    name: build and test (${{ matrix.os }}, Python ${{ matrix.python }})",
        "    runs-on: ${{ matrix.os }}",
        "    strategy:",
        "      fail-fast: false",
        "      matrix:",
        f"        os: {_quoted(options.runners)}",
        f"        python: {_quoted(options.pythons)}",
        *include,
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        "          python-version: ${{ matrix.python }}",
        "      - name: Install nox and maturin-nox",
        f"        run: python -m pip install nox {tool}",
        "      # -P python: this job's Python (from setup-python) instead of the noxfile's list.",
        "      - name: Build the wheel",
        f"        run: {build}",
        "      - name: Audit the wheel",
        "        run: nox -P python -s audit",
        *(test if options.test else []),
        "      - name: Keep the wheel",
        "        uses: actions/upload-artifact@v4",
        *([upload_if.rstrip("\n")] if upload_if else []),
        "        with:",
        "          name: wheels-${{ matrix.os }}-${{ matrix.python }}",
        f"          path: {_WHEEL_DIR}/*.whl",
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
    """The job that uploads every artifact, only on a tag and only if every job passed."""
    head = [
        "  release:",
        "    name: Release",
        "    runs-on: ubuntu-latest",
        "    if: startsWith(github.ref, 'refs/tags/')",
        "    needs: [build-test, sdist]",
    ]
    download = [
        "      - uses: actions/download-artifact@v4",
        "        with:",
        "          path: dist",
        "          merge-multiple: true",
    ]
    if options.attest:
        download += [
            "      - name: Attest the build provenance of the released files",
            "        uses: actions/attest-build-provenance@v2",
            "        with:",
            "          subject-path: dist/*",
        ]
    attest_permissions = [
        "    permissions:",
        "      # Attestations: signed with this workflow's OIDC token.",
        "      id-token: write",
        "      attestations: write",
    ]
    if options.publish == "token":
        environment = [f"    environment: {options.environment}"] if options.environment else []
        return [
            *head,
            *environment,
            *(attest_permissions if options.attest else []),
            "    steps:",
            *download,
            "      - uses: actions/setup-python@v5",
            "        with:",
            '          python-version: "3.x"',
            "      - name: Install maturin-nox",
            "        run: python -m pip install maturin-nox",
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
        *download,
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
    from . import __version__

    publish_how = (
        "PyPI trusted publishing (configure it for this repository and the `pypi` environment)"
        if options.publish == "trusted"
        else "the PYPI_API_TOKEN repository secret"
    )
    lines = [
        f"# Generated by maturin-nox {__version__}: maturin-nox generate-ci github",
        "#",
        "# Builds, audits and tests a wheel per runner and Python with the project's nox",
        "# sessions, builds the sdist, and on a tag publishes them all with",
        f"# {publish_how}, only if every job passed.",
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
        *_sdist_job(),
        "",
        *_release_job(options),
    ]
    return "\n".join(lines) + "\n"
