"""The tox plugin, through real ``tox`` runs on copies of the test crates.

tox runs as a subprocess with CPython 3.9 and 3.12 first on PATH; the plugin
reads ``MATURIN_NOX_TARGET_DIR`` in the tox process, so every run shares the
suite's cargo cache. Assertions are on tox's output lines and on the installed
environments, never on timings.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import pytest
from conftest import CRATES, TARGET, pyenv_python, run_check

pytestmark = pytest.mark.slow

COMPILING = re.compile(r"^\s*Compiling ", re.MULTILINE)


@dataclass(frozen=True)
class ToxRun:
    """One finished tox invocation: exit code and combined output."""

    code: int
    out: str

    def line(self, env: str, pattern: str) -> str:
        """The one output line of ``env`` matching ``pattern`` (a regex); fails if absent."""
        found = re.findall(rf"^{re.escape(env)}: {pattern}.*$", self.out, re.MULTILINE)
        assert len(found) == 1, f"no single '{env}: {pattern}' line in:\n{self.out}"
        return str(found[0])


def tox_environ() -> Dict[str, str]:
    """The caller's environment minus anything that would steer tox, plus our interpreters."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MATURIN_NOX_TARGET_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TOX_")}
    bins = [str(pyenv_python(v).parent) for v in ("3.9", "3.12")]
    env["PATH"] = os.pathsep.join([*bins, env.get("PATH", "")])
    env["MATURIN_NOX_TARGET_DIR"] = str(TARGET)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    return env


def run_tox(project: Path, *args: str) -> ToxRun:
    """Run ``python -m tox ARGS`` in the project, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "tox", *args],
        cwd=project,
        env=tox_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1200,
    )
    return ToxRun(proc.returncode, proc.stdout)


def copy_crate(crate: str, dest: Path) -> Path:
    """A clean copy of a test crate (no build outputs, no develop leftovers)."""
    ignore = shutil.ignore_patterns("target", ".tox", "__pycache__", "*.so", "*.pyd", "*.egg-info")
    shutil.copytree(CRATES / crate, dest, ignore=ignore)
    return dest


# --- pyo3-mixed with tox.ini: wheels per interpreter, reuse, editable, extras ---------------

MIXED_INI = """\
[tox]
env_list = py39, py312, dev, test

[testenv]
runner = maturin
commands = python -c "import sys, pyo3_mixed; print('RESULT', sys.version_info[0], sys.version_info[1], pyo3_mixed.get_42(), pyo3_mixed.__file__)"

[testenv:dev]
base_python = py312
package = editable
commands = python -c "import pyo3_mixed; print('RESULT', pyo3_mixed.__file__, getattr(pyo3_mixed, 'EDITED', 'no'))"

[testenv:test]
base_python = py39
extras = test
commands = pytest {tox_root}/tests -q -p no:cacheprovider
"""


@dataclass(frozen=True)
class MixedRuns:
    """The pyo3-mixed project and its first two tox runs."""

    project: Path
    first: ToxRun
    second: ToxRun
    wheels_after_first: Dict[str, int]  # wheel name -> mtime_ns in .tox/.maturin-wheels
    wheels_after_second: Dict[str, int]


def wheel_mtimes(project: Path) -> Dict[str, int]:
    """The wheels tox's environments share, with their modification times."""
    folder = project / ".tox" / ".maturin-wheels"
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.whl")}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> MixedRuns:
    """pyo3-mixed copied, tox.ini written, tox run twice with nothing changed in between."""
    project = copy_crate("pyo3-mixed", tmp_path_factory.mktemp("tox-mixed") / "pyo3-mixed")
    (project / "tox.ini").write_text(MIXED_INI)
    first = run_tox(project)
    assert first.code == 0, first.out
    after_first = wheel_mtimes(project)
    second = run_tox(project)
    assert second.code == 0, second.out
    return MixedRuns(project, first, second, after_first, wheel_mtimes(project))


def test_each_environment_gets_a_wheel_for_its_own_interpreter(mixed: MixedRuns) -> None:
    out = mixed.first
    assert re.search(
        r"built pyo3_mixed-0\.4\.0-cp39-cp39-\S+\.whl$", out.line("py39", "maturin-nox")
    )
    assert re.search(r"pyo3_mixed-0\.4\.0-cp312-cp312-\S+\.whl$", out.line("py312", "maturin-nox"))
    for env, minor in (("py39", 9), ("py312", 12)):
        result = re.search(rf"^RESULT 3 {minor} 42 (\S+)$", out.out, re.MULTILINE)
        assert result, out.out
        assert f"/.tox/{env}/" in result.group(1) and "site-packages" in result.group(1)
    wheels = sorted(p.name for p in (mixed.project / ".tox" / ".maturin-wheels").glob("*.whl"))
    assert [w.split("-")[2] for w in wheels] == ["cp312", "cp39"]


def test_no_packaging_environment_or_backend_subprocess(mixed: MixedRuns) -> None:
    assert not (mixed.project / ".tox" / ".pkg").exists()
    assert ".pkg" not in mixed.first.out
    assert "build_wheel" not in mixed.first.out and "get_requires_for_build" not in mixed.first.out


def test_installed_wheels_pass_the_crate_check(mixed: MixedRuns, tmp_path: Path) -> None:
    for env in ("py39", "py312"):
        out = run_check(
            mixed.project / ".tox" / env / "bin" / "python", "pyo3-mixed", tmp_path / env
        )
        assert "OK pyo3-mixed" in out


def test_an_environment_with_the_same_interpreter_reuses_the_wheel(mixed: MixedRuns) -> None:
    # "test" (3.9) runs after "py39": same bytes, so the wheel is reused, and installed here.
    line = mixed.first.line("test", "maturin-nox")
    assert re.search(r"reused pyo3_mixed-0\.4\.0-cp39-cp39-\S+\.whl$", line), line


def test_extras_and_deps_install_as_tox_does(mixed: MixedRuns) -> None:
    deps = mixed.first.line("test", "install_package_deps>")
    assert "pytest" in deps
    assert re.search(r"^3 passed", mixed.first.out, re.MULTILINE), mixed.first.out


def test_second_run_reuses_the_build_and_the_environments(mixed: MixedRuns) -> None:
    out = mixed.second
    for env in ("py39", "py312", "test"):
        assert out.line(env, "maturin-nox").endswith("(already installed)")
        assert "reused" in out.line(env, "maturin-nox")
    assert "up to date" in out.line("dev", "maturin-nox")
    assert not COMPILING.search(out.out), out.out
    # nothing was rewritten: the same wheel files, untouched
    assert mixed.wheels_after_second == mixed.wheels_after_first
    assert len(mixed.wheels_after_first) == 2
    for marker in ("install_package", "install_deps", "recreate", "remove tox env folder"):
        assert marker not in out.out, out.out


def test_editable_environment_sees_python_edits_without_reinstall(mixed: MixedRuns) -> None:
    first = re.search(r"^RESULT (\S+) no$", mixed.first.out, re.MULTILINE)
    assert first and first.group(1).endswith("python/pyo3_mixed/__init__.py"), mixed.first.out
    init = mixed.project / "python" / "pyo3_mixed" / "__init__.py"
    init.write_text(init.read_text() + '\nEDITED = "live"\n')
    run = run_tox(mixed.project, "-e", "dev")
    assert run.code == 0, run.out
    assert re.search(r"^RESULT \S+ live$", run.out, re.MULTILINE), run.out
    assert "up to date" in run.line("dev", "maturin-nox")
    assert "install_package" not in run.out and not COMPILING.search(run.out)


# --- pyo3-pure with tox.toml and with [tool.tox] -------------------------------------------

TOX_TOML = """\
env_list = ["py39", "py312"]

[env_run_base]
runner = "maturin"
commands = [["python", "-c", "import sys, pyo3_pure; print('RESULT', sys.version_info[1], pyo3_pure.add(40, 2))"]]
"""

PYPROJECT_TOX = """
[tool.tox]
env_list = ["py312"]

[tool.tox.env_run_base]
runner = "maturin"
commands = [["python", "-c", "import sys, pyo3_pure; print('RESULT', sys.version_info[1], pyo3_pure.add(40, 2))"]]
"""


def test_tox_toml_configuration(tmp_path: Path) -> None:
    project = copy_crate("pyo3-pure", tmp_path / "pyo3-pure")
    (project / "tox.toml").write_text(TOX_TOML)
    run = run_tox(project)
    assert run.code == 0, run.out
    assert "cp39-cp39" in run.line("py39", "maturin-nox built")
    assert "cp312-cp312" in run.line("py312", "maturin-nox built")
    assert re.search(r"^RESULT 9 42$", run.out, re.M) and re.search(
        r"^RESULT 12 42$", run.out, re.M
    )


def test_pyproject_tool_tox_configuration(tmp_path: Path) -> None:
    project = copy_crate("pyo3-pure", tmp_path / "pyo3-pure")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + PYPROJECT_TOX)
    run = run_tox(project)
    assert run.code == 0, run.out
    assert "pyo3_pure-2.1.2-cp312-cp312-" in run.line("py312", "maturin-nox built")
    assert re.search(r"^RESULT 12 42$", run.out, re.MULTILINE), run.out


# --- bad input ----------------------------------------------------------------------------


def test_not_a_rust_project_fails_the_environment_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "plain"\nversion = "1.0"\n')
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenv_list = py312\n[testenv]\nrunner = maturin\ncommands = python -c pass\n"
    )
    run = run_tox(tmp_path)
    assert run.code != 0
    line = run.line("py312", "failed with")
    assert "Cargo.toml" in line and str(tmp_path) in line, line
    assert "Traceback" not in run.out


BROKEN_INI = """\
[tox]
env_list = broken, py39

[testenv]
runner = maturin
commands = python -c "import pyo3_pure; print('RESULT', pyo3_pure.add(1, 2))"

[testenv:broken]
base_python = py312
maturin_features = broken
"""


def test_cargo_failure_fails_only_that_environment(tmp_path: Path) -> None:
    project = copy_crate("pyo3-pure", tmp_path / "pyo3-pure")
    with (project / "Cargo.toml").open("a") as fh:
        fh.write("\n[features]\nbroken = []\n")
    with (project / "src" / "lib.rs").open("a") as fh:
        fh.write(
            '\n#[cfg(feature = "broken")]\ncompile_error!("deliberately broken for the tox test");\n'
        )
    (project / "tox.ini").write_text(BROKEN_INI)
    run = run_tox(project)
    assert run.code != 0
    assert "deliberately broken for the tox test" in run.out  # cargo's own error
    assert "cargo" in run.line("broken", "failed with")
    assert re.search(r"^\s*broken: FAIL", run.out, re.MULTILINE), run.out
    assert re.search(r"^\s*py39: OK", run.out, re.MULTILINE), run.out
    assert re.search(r"^RESULT 3$", run.out, re.MULTILINE), run.out
    assert "Traceback" not in run.out


def test_unsupported_package_type_is_refused(tmp_path: Path) -> None:
    project = copy_crate("pyo3-pure", tmp_path / "pyo3-pure")
    (project / "tox.ini").write_text(
        "[tox]\nenv_list = py312\n[testenv]\nrunner = maturin\npackage = sdist\ncommands = python -c pass\n"
    )
    run = run_tox(project)
    assert run.code != 0
    assert "package = sdist is not supported with runner = maturin" in run.line(
        "py312", "failed with"
    )
    assert "Traceback" not in run.out


def test_plugin_is_registered_with_tox(tmp_path: Path) -> None:
    run = run_tox(tmp_path, "--version")
    assert run.code == 0 and "maturin_nox/tox_plugin.py" in run.out.replace(os.sep, "/"), run.out
