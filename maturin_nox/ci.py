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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

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


@dataclass(frozen=True)
class WorkflowOptions:
    """What a generated workflow depends on."""

    pythons: Tuple[str, ...]
    abi3: bool = False
    publish: str = "trusted"  # "trusted" (OIDC trusted publishing) or "token" (PYPI_API_TOKEN)
    platforms: Tuple[str, ...] = DEFAULT_PLATFORMS
    zig: bool = False  # Linux wheels linked with zig for manylinux2014 (glibc 2.17)
    sccache: bool = True  # rustc through sccache on the GitHub Actions cache


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
    publish: str = "trusted",
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    zig: bool = False,
    sccache: bool = True,
) -> WorkflowOptions:
    """The workflow options for the project at ``manifest_path`` (or found from ``cwd``)."""
    from .project import load_project

    project = load_project(manifest_path, cwd=cwd)
    source = str(project.pyproject_path or project.manifest_path)
    requires = project.metadata.requires_python
    pythons = supported_pythons(str(requires) if requires else None, source=source)
    return WorkflowOptions(
        tuple(pythons),
        abi3=project.bindings.abi3,
        publish=publish,
        platforms=tuple(dict.fromkeys(platforms)) or DEFAULT_PLATFORMS,
        zig=zig,
        sccache=sccache,
    )


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
    for platform in options.platforms:
        zig = options.zig and platform.startswith("linux-")
        lines += [f"          - platform: {platform}", f"            runner: {PLATFORMS[platform]}"]
        if build:
            lines.append(f'            build_args: "{"--zig" if zig else ""}"')
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
        "        run: nox -P python -s build -- --release ${{ matrix.build_args }}",
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
        "      - name: Test the installed wheel",
        "        run: nox -P python -s test",
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
        "        run: maturin-nox gate dist --merge results",
    ]
    if options.publish == "token":
        return [
            *head,
            "    steps:",
            *gate,
            "      - name: Publish to PyPI",
            "        run: maturin-nox upload --non-interactive --skip-existing dist/*",
            "        env:",
            "          MATURIN_PYPI_TOKEN: ${{ secrets.PYPI_API_TOKEN }}",
        ]
    return [
        *head,
        "    environment: pypi",
        "    permissions:",
        "      # Trusted publishing: PyPI trusts this workflow's OIDC token, no secret needed.",
        "      id-token: write",
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
        "PyPI trusted publishing (set it up for this repository and the `pypi` environment)"
        if options.publish == "trusted"
        else "an upload with the PYPI_API_TOKEN repository secret"
    )
    lines = [
        f"# Generated by maturin-nox {__version__}: maturin-nox generate-ci github",
        "#",
        "# build:   a wheel per platform and Python, with the project's nox sessions"
        + (" (rustc through" if options.sccache else ""),
        *(["#          sccache on the GitHub Actions cache)"] if options.sccache else []),
        "# test:    each wheel audited and tested in a job of its own, results kept",
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
