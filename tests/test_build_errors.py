"""Bad input to ``maturin-nox build``: one clear sentence naming the file, key
or command, a non-zero exit, no traceback, and no wheel left in the output."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CRATES, cli, pip_install, run_check


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
    assert (
        r.returncode == 2 and "unknown bindings 'pyo4'" in r.stderr and "Traceback" not in r.stderr
    )


@pytest.mark.slow
def test_interpreter_that_does_not_exist(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = cli("build", "-i", "3.5", "-o", str(out), "-m", str(CRATES / "pyo3-pure" / "Cargo.toml"))
    _fails(r, "3.5", out=out)
    r = cli(
        "build",
        "-i",
        "/no/such/python",
        "-o",
        str(out),
        "-m",
        str(CRATES / "pyo3-pure" / "Cargo.toml"),
    )
    _fails(r, "/no/such/python", out=out)


@pytest.mark.slow
def test_interpreter_outside_requires_python(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    text = (crate / "pyproject.toml").read_text()
    import re

    text = re.sub(r'requires-python = "[^"]*"', 'requires-python = ">=3.10"', text)
    (crate / "pyproject.toml").write_text(text)
    out = tmp_path / "out"
    _fails(
        cli("build", "-i", "3.9", "-o", str(out), cwd=crate), "requires-python", ">=3.10", out=out
    )


@pytest.mark.slow
def test_version_that_is_not_pep440(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    text = (crate / "pyproject.toml").read_text()
    import re

    text = re.sub(r"dynamic = \[[^\]]*\]\n", "", text)
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
    lib.write_text(lib.read_text() + '\nfn broken() -> u32 { "not a number" }\n')
    out = tmp_path / "out"
    r = cli(
        "build",
        "-i",
        "3.9",
        "-i",
        "3.12",
        "-o",
        str(out),
        "--target-dir",
        str(cargo_target),
        cwd=crate,
    )
    _fails(r, "cargo rustc", "failed", out=out)
    assert "mismatched types" in r.stderr  # cargo's own error is shown


def _append_to_table(path: Path, table: str, line: str) -> None:
    """Add ``line`` under ``[table]`` of a TOML file (creating the table at the end if needed)."""
    text = path.read_text()
    header = f"[{table}]"
    if header in text:
        text = text.replace(header, f"{header}\n{line}", 1)
    else:
        text += f"\n{header}\n{line}\n"
    path.write_text(text)


@pytest.mark.slow  # cargo metadata runs; cargo never builds
@pytest.mark.parametrize(
    ("table", "line", "fragments"),
    [
        ("project.scripts", 'x = "not a target!"', ("project.scripts.x", "not a target!")),
        ("project.scripts", 'x = "pkg.mod"', ("project.scripts.x", "module:function")),
        ("project.gui-scripts", 'g = "1abc:main"', ("project.gui-scripts.g",)),
        ('project.entry-points."my group!"', 'p = "pkg:f"', ("my group!", "group name")),
        ("project.entry-points.plugins", 'p = "class:f"', ("project.entry-points.plugins.p",)),
        ("tool.maturin", 'module-name = "1abc"', ("tool.maturin.module-name", "'1abc'")),
        ("tool.maturin", 'module-name = "pkg.class"', ("tool.maturin.module-name", "'class'")),
    ],
)
def test_entry_points_and_module_names_that_can_never_work_fail_before_cargo(
    tmp_path: Path, table: str, line: str, fragments: tuple
) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    _append_to_table(crate / "pyproject.toml", table, line)
    out = tmp_path / "out"
    result = cli("build", "-o", str(out), cwd=crate)
    _fails(result, "pyproject.toml", *fragments, out=out)
    assert "Compiling" not in result.stderr  # refused before cargo ran


@pytest.mark.slow  # cargo metadata runs; cargo never builds
def test_an_output_folder_that_is_a_file_is_one_sentence(tmp_path: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    out = tmp_path / "dist"
    out.write_text("not a folder")
    result = cli("build", "-o", str(out), cwd=crate)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"The output folder {out} (from -o/--out) is a file" in result.stderr
    assert out.read_text() == "not a folder"
    sdist = cli("sdist", "-o", str(out), cwd=crate)
    assert sdist.returncode == 1 and "is a file, not a folder" in sdist.stderr
    assert "Traceback" not in sdist.stderr


def test_flags_never_match_by_prefix(tmp_path: Path) -> None:
    # --target-di is not --target-dir, and --manifest is not --manifest-path
    for flag in ("--target-di", "--manifest"):
        result = cli("build", flag, str(tmp_path), cwd=tmp_path)
        assert result.returncode == 2 and "unrecognized arguments" in result.stderr, flag


# --- where maturin 1.16 refuses a project, we refuse it too (its tests expect these errors) ---


def _maturin_fails(crate: Path, maturin_target: Path, *args: str) -> str:
    """maturin's own verdict on the crate (reference tool, tests only): its error output."""
    proc = subprocess.run(
        ["maturin", "build", "-o", str(crate / "maturin-out"), *args],
        cwd=crate,
        capture_output=True,
        text=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(maturin_target)},
    )
    assert proc.returncode == 1, proc.stderr
    assert not list((crate / "maturin-out").glob("*.whl"))
    return proc.stderr


@pytest.mark.slow
def test_an_extension_linked_to_libpython_is_refused_unless_the_audit_is_off(
    tmp_path: Path, cargo_target: Path, maturin_target: Path, fresh_venv
) -> None:
    crate = _copy("pyo3-links-libpython", tmp_path)
    out = tmp_path / "out"
    common = ("-i", "3.12", "-o", str(out), "--target-dir", str(cargo_target))
    for audit in ((), ("--auditwheel", "check"), ("--auditwheel", "warn")):
        result = cli("build", *common, *audit, cwd=crate)
        _fails(
            result, "libpyo3_links_libpython.so links libpython3.12", "extension-module", out=out
        )
    assert "links libpython (libpython3." in _maturin_fails(crate, maturin_target)
    # skipping the audit builds it, as in maturin (a linux wheel for this interpreter only)
    result = cli("build", *common, "--compatibility", "linux", cwd=crate)
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("*.whl")
    assert wheel.name.endswith("-cp312-cp312-linux_x86_64.whl")
    python = fresh_venv("3.12")
    pip_install(python, str(wheel))
    assert "OK pyo3-links-libpython" in run_check(python, "pyo3-links-libpython", tmp_path)


@pytest.mark.slow
def test_a_python_source_without_the_package_is_refused(
    tmp_path: Path, maturin_target: Path
) -> None:
    crate = _copy("pyo3-mixed", tmp_path)
    shutil.rmtree(crate / "python" / "pyo3_mixed")  # python/ stays, the package is gone
    out = tmp_path / "out"
    for command in ("build", "sdist"):
        result = cli(command, "-o", str(out), cwd=crate)
        _fails(
            result,
            "pyproject.toml: tool.maturin.python-source is 'python'",
            f"{crate / 'python' / 'pyo3_mixed'} does not exist",
            out=out,
        )
    assert "python/pyo3_mixed` does not exist" in _maturin_fails(crate, maturin_target)


@pytest.mark.slow
def test_a_module_name_with_a_minus_is_refused(tmp_path: Path, maturin_target: Path) -> None:
    crate = _copy("pyo3-pure", tmp_path)
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('name = "pyo3_pure"\n', ""))
    out = tmp_path / "out"
    result = cli("build", "-o", str(out), cwd=crate)
    _fails(result, "'pyo3-pure' (from project.name in", "contains a minus", out=out)
    assert "Compiling" not in result.stderr
    assert "must not contain a minus" in _maturin_fails(crate, maturin_target)


@pytest.mark.slow
def test_a_crate_without_cdylib_binary_or_bindings_crate_is_refused(
    tmp_path: Path, maturin_target: Path
) -> None:
    crate = tmp_path / "plain"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "plain"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\n'
    )
    (crate / "src" / "lib.rs").write_text("pub fn f() {}\n")
    (crate / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["maturin-nox"]\nbuild-backend = "maturin_nox.backend"\n'
    )
    subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=crate, check=True)
    out = tmp_path / "out"
    result = cli("build", "-o", str(out), cwd=crate)
    _fails(result, f"{crate / 'Cargo.toml'} has no cdylib", "-b/--bindings", out=out)
    assert "Couldn't detect the binding type" in _maturin_fails(crate, maturin_target)
    # with a binary too, it is a binary crate (maturin's rule), not cffi
    (crate / "src" / "main.rs").write_text("fn main() {}\n")
    from maturin_nox.project import load_project

    assert load_project(cwd=crate).bindings.kind == "bin"
