"""Bad input to ``maturin-nox build``: one clear sentence naming the file, key
or command, a non-zero exit, no traceback, and no wheel left in the output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CRATES, cli


def _copy(crate: str, tmp_path: Path) -> Path:
    dest = tmp_path / crate
    shutil.copytree(CRATES / crate, dest, ignore=shutil.ignore_patterns("target"))
    return dest


def _fails(result, *fragments: str, out: Path) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = [ln for ln in result.stderr.strip().splitlines() if ln.strip()][-1]
    for fragment in fragments:
        assert fragment in last, last
    assert not list(out.glob("*.whl")) if out.exists() else True
    assert not [p for p in out.rglob("*") if p.is_file()] if out.exists() else True


def test_no_cargo_toml(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = cli("build", "-o", str(out), cwd=tmp_path)
    _fails(r, "No Cargo.toml in", str(tmp_path), out=out)


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    (crate / "pyproject.toml").write_text("[project\nname = 'x'\n")
    out = tmp_path / "out"
    r = cli("build", "-o", str(out), cwd=crate)
    _fails(r, "pyproject.toml is not valid TOML", "line 1", out=out)


def test_unknown_binding_in_pyproject(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    import re

    text = re.sub(r"(?m)^bindings = .*$\n", "", (crate / "pyproject.toml").read_text())
    if "[tool.maturin]" not in text:
        text += "\n[tool.maturin]\n"
    text = text.replace("[tool.maturin]", '[tool.maturin]\nbindings = "pyo4"')
    (crate / "pyproject.toml").write_text(text)
    out = tmp_path / "out"
    _fails(cli("build", "-o", str(out), cwd=crate), "tool.maturin.bindings", "pyo4", out=out)


def test_unknown_binding_on_the_command_line(tmp_path: Path) -> None:
    r = cli("build", "-b", "pyo4", "-m", str(CRATES / "pyo3-pure" / "Cargo.toml"))
    assert r.returncode == 2 and "unknown bindings 'pyo4'" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_interpreter_that_does_not_exist(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = cli("build", "-i", "3.5", "-o", str(out), "-m", str(CRATES / "pyo3-pure" / "Cargo.toml"))
    _fails(r, "3.5", out=out)
    r = cli("build", "-i", "/no/such/python", "-o", str(out), "-m", str(CRATES / "pyo3-pure" / "Cargo.toml"))
    _fails(r, "/no/such/python", out=out)


@pytest.mark.slow
def test_interpreter_outside_requires_python(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    text = (crate / "pyproject.toml").read_text()
    import re

    text = re.sub(r'requires-python = "[^"]*"', 'requires-python = ">=3.10"', text)
    (crate / "pyproject.toml").write_text(text)
    out = tmp_path / "out"
    _fails(cli("build", "-i", "3.9", "-o", str(out), cwd=crate), "requires-python", ">=3.10", out=out)


@pytest.mark.slow
def test_version_that_is_not_pep440(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    text = (crate / "pyproject.toml").read_text()
    import re

    text = re.sub(r'dynamic = \[[^\]]*\]\n', "", text)
    text = text.replace("[project]\n", '[project]\nversion = "1.0.x"\n', 1)
    (crate / "pyproject.toml").write_text(text)
    out = tmp_path / "out"
    _fails(cli("build", "-o", str(out), cwd=crate), "project.version", "1.0.x", out=out)


@pytest.mark.slow
def test_missing_python_source(tmp_path: Path) -> None:
    crate = _copy("pyo3-mixed", tmp_path)
    shutil.rmtree(crate / "python")
    out = tmp_path / "out"
    _fails(cli("build", "-o", str(out), cwd=crate), "tool.maturin.python-source", out=out)


@pytest.mark.slow
def test_cargo_compile_error_leaves_no_wheel(tmp_path: Path, cargo_target: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\nfn broken() -> u32 { \"not a number\" }\n")
    out = tmp_path / "out"
    r = cli("build", "-i", "3.9", "-i", "3.12", "-o", str(out), "--target-dir", str(cargo_target), cwd=crate)
    _fails(r, "cargo rustc", "failed", out=out)
    assert "mismatched types" in r.stderr  # cargo's own error is shown
