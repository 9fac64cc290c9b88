"""cffi, bin, pyo3-ffi and PyPy wheels: built with the engine, installed into fresh
venvs, checked from a temporary folder, and compared file by file with maturin 1.16."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List, Optional, Set

import pytest
from conftest import (
    CRATES,
    assert_record_valid_for_installer,
    assert_same_sbom,
    pip_install,
    pyenv_python,
    run_check,
    wheel_contents,
)

import maturin_nox
from maturin_nox import cffi as cffi_module
from maturin_nox.errors import BuildError, ConfigError

pytestmark = pytest.mark.slow

PYPY = shutil.which("pypy3")


def wheel_files(path: Path) -> Set[str]:
    """The archive names in a wheel, without its SBOM (``dist-info/sboms/*.cyclonedx.json``).

    The SBOMs' contents are compared on their own, by ``assert_same_sbom``.
    """
    with zipfile.ZipFile(path) as zf:
        return {n for n in zf.namelist() if "/sboms/" not in n}


def maturin_build(
    manifest: Path, out: Path, target: Path, *args: str, cwd: Optional[Path] = None
) -> List[Path]:
    """Build with the reference maturin (dev profile) into ``out``; return its wheels."""
    tag = target / "CACHEDIR.TAG"
    if not tag.exists():
        # cargo only tags a target dir it creates; the cffi crates' build scripts find it by the tag
        tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        ["maturin", "build", "--profile", "dev", "-o", str(out), "-m", str(manifest), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sorted(out.glob("*.whl"))


def copy_crate(name: str, dest: Path) -> Path:
    """A scratch copy of a test crate (without its target folder)."""
    shutil.copytree(CRATES / name, dest, ignore=shutil.ignore_patterns("target"))
    return dest


# --- cffi -------------------------------------------------------------------------------


@pytest.mark.parametrize("crate", ["cffi-pure", "cffi-mixed"])
def test_cffi_wheel_matches_maturin_and_imports_ffi_and_lib(
    crate, wheel_builder, fresh_venv, tmp_path, maturin_target
):
    # the interpreter running cffi's recompiler needs cffi: this one has it (a dependency)
    (wheel,) = wheel_builder(crate, (sys.executable,), compatibility="linux")
    assert wheel.tag == "py3-none-linux_x86_64"
    ours = wheel_files(wheel.path)
    module = crate.replace("-", "_")
    glue = f"{module}/{module}" if crate == "cffi-mixed" else module
    assert {f"{glue}/__init__.py", f"{glue}/ffi.py", f"{glue}/lib{module}.so"} <= ours
    (theirs,) = maturin_build(CRATES / crate / "Cargo.toml", tmp_path / "m", maturin_target)
    assert ours == wheel_files(theirs)
    assert_record_valid_for_installer(wheel.path)
    assert_same_sbom(wheel_contents(wheel.path), wheel_contents(theirs))
    with zipfile.ZipFile(wheel.path) as a, zipfile.ZipFile(theirs) as b:
        assert a.read(f"{glue}/ffi.py") == b.read(f"{glue}/ffi.py")
        assert a.read(f"{glue}/__init__.py") == b.read(f"{glue}/__init__.py")
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    assert f"OK {crate}" in run_check(python, crate, tmp_path)


def _headerless_cffi(tmp_path: Path) -> Path:
    crate = copy_crate("cffi-pure", tmp_path / "cffi-headerless")
    (crate / "build.rs").unlink()
    (crate / "header.h").unlink()
    return crate


def test_cffi_without_header_or_cbindgen_names_both_ways(tmp_path, monkeypatch):
    crate = _headerless_cffi(tmp_path)
    real_which = shutil.which
    monkeypatch.setattr(
        cffi_module.shutil, "which", lambda n, *a, **k: None if n == "cbindgen" else real_which(n)
    )
    with pytest.raises(BuildError) as info:
        # a target dir of its own: the shared one holds other crates' header.h
        maturin_nox.build(
            manifest_path=crate,
            out_dir=tmp_path / "out",
            target_dir=tmp_path / "target",
            compatibility="linux",
        )
    message = str(info.value)
    assert "cbindgen" in message and "header.h" in message
    assert not list((tmp_path / "out").glob("*.whl"))


@pytest.mark.skipif(shutil.which("cbindgen") is None, reason="cbindgen is not installed")
def test_cffi_header_from_cbindgen_honours_cbindgen_toml(tmp_path, fresh_venv):
    crate = _headerless_cffi(tmp_path)
    # settings cffi cannot parse must be forced off, as maturin does
    (crate / "cbindgen.toml").write_text(
        'language = "C++"\ninclude_guard = "CFFI_PURE_H"\npragma_once = true\n'
        'cpp_compat = true\n[export]\nprefix = ""\n'
    )
    python = fresh_venv("3.12")  # has no cffi: the build installs it there
    (wheel,) = maturin_nox.build(
        manifest_path=crate,
        interpreters=[str(python)],
        out_dir=tmp_path / "out",
        target_dir=tmp_path / "target",
        compatibility="linux",
    )
    with zipfile.ZipFile(wheel.path) as zf:
        assert "cffi_pure/ffi.py" in zf.namelist()
    probe = subprocess.run([str(python), "-c", "import cffi"], capture_output=True)
    assert probe.returncode == 0, "cffi was not installed into the build venv"
    pip_install(python, str(wheel.path))
    assert "OK cffi-pure" in run_check(python, "cffi-pure", tmp_path)


# --- bin ----------------------------------------------------------------------------------


def test_bin_wheel_puts_binary_in_data_scripts(wheel_builder, fresh_venv, tmp_path, maturin_target):
    (wheel,) = wheel_builder("hello-bin", (), compatibility="linux")
    assert wheel.tag == "py3-none-linux_x86_64"
    ours = wheel_files(wheel.path)
    assert "hello_bin-0.5.0.data/scripts/hello-bin" in ours
    with zipfile.ZipFile(wheel.path) as zf:
        mode = zf.getinfo("hello_bin-0.5.0.data/scripts/hello-bin").external_attr >> 16
    assert mode & 0o111, "the binary must be executable"
    (theirs,) = maturin_build(CRATES / "hello-bin" / "Cargo.toml", tmp_path / "m", maturin_target)
    assert ours == wheel_files(theirs)
    python = fresh_venv("3.9")
    pip_install(python, str(wheel.path))
    assert "OK hello-bin" in run_check(python, "hello-bin", tmp_path)


def test_several_bin_targets_with_strip_all_land_in_scripts(tmp_path, cargo_target, maturin_target):
    crate = copy_crate("hello-bin", tmp_path / "two-bins")
    (crate / "src" / "other.rs").write_text('fn main() { println!("other"); }\n')
    with open(crate / "Cargo.toml", "a") as fh:
        fh.write('\n[[bin]]\nname = "hello-other"\npath = "src/other.rs"\n')
    with open(crate / "pyproject.toml", "a") as fh:
        fh.write("strip = true\n")  # rustc args: each binary gets its own `cargo rustc --bin`
    (wheel,) = maturin_nox.build(
        manifest_path=crate,
        out_dir=tmp_path / "out",
        target_dir=cargo_target,
        compatibility="linux",
    )
    ours = wheel_files(wheel.path)
    assert {
        "hello_bin-0.5.0.data/scripts/hello-bin",
        "hello_bin-0.5.0.data/scripts/hello-other",
    } <= ours
    (theirs,) = maturin_build(crate / "Cargo.toml", tmp_path / "m", maturin_target)
    assert ours == wheel_files(theirs)
    with zipfile.ZipFile(wheel.path) as zf:
        data = zf.read("hello_bin-0.5.0.data/scripts/hello-other")
    assert b".symtab" not in data, "strip = true must strip every binary"


def test_pyo3_embedding_binary_is_tagged_per_interpreter(
    wheel_builder, fresh_venv, tmp_path, maturin_target
):
    (wheel,) = wheel_builder("pyo3-bin", ("3.12",))
    # maturin tags a binary linking libpython for that interpreter, not py3-none, and its
    # audit lets a program link libpython (a shared-library Python's): manylinux
    assert wheel.tag.startswith("cp312-cp312-manylinux_2_"), wheel.tag
    ours = wheel_files(wheel.path)
    assert {"pyo3_bin-0.7.0.data/scripts/pyo3-bin", "pyo3_bin/__init__.py"} <= ours
    assert not any(n.endswith(".so") for n in ours), "a binary is not an extension module"
    (theirs,) = maturin_build(
        CRATES / "pyo3-bin" / "Cargo.toml",
        tmp_path / "m",
        maturin_target,
        "-i",
        str(pyenv_python("3.12")),
    )
    assert theirs.name == wheel.path.name
    assert ours == wheel_files(theirs)
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    assert "OK pyo3-bin" in run_check(python, "pyo3-bin", tmp_path)


# --- pyo3-ffi and PyPy ------------------------------------------------------------------------


def test_pyo3_ffi_wheel_matches_maturin(wheel_builder, fresh_venv, tmp_path, maturin_target):
    (wheel,) = wheel_builder("pyo3-ffi-pure", ("3.12",), compatibility="linux")
    assert wheel.tag == "cp312-cp312-linux_x86_64"
    (theirs,) = maturin_build(
        CRATES / "pyo3-ffi-pure" / "Cargo.toml",
        tmp_path / "m",
        maturin_target,
        "-i",
        str(pyenv_python("3.12")),
    )
    assert wheel_files(wheel.path) == wheel_files(theirs)
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    assert "OK pyo3-ffi-pure" in run_check(python, "pyo3-ffi-pure", tmp_path)


@pytest.mark.skipif(
    PYPY is None, reason="pypy3 is not installed (apt-get install pypy3 pypy3-venv)"
)
@pytest.mark.parametrize("crate", ["pyo3-pure", "pyo3-ffi-pure"])
def test_pypy_wheel_has_pypy_tag_and_works_in_a_pypy_venv(crate, wheel_builder, tmp_path):
    from maturin_nox.venv import create

    (wheel,) = wheel_builder(crate, ("pypy3",), compatibility="linux")
    assert wheel.tag.startswith("pp3") and "-pypy3" in wheel.tag and "_pp73-" in wheel.tag
    module = crate.replace("-", "_")
    assert any(n.startswith(f"{module}/{module}.pypy3") for n in wheel_files(wheel.path))
    env = create(PYPY, tmp_path / "pypy-venv", backend="virtualenv")
    python = Path(env.python)
    pip_install(python, str(wheel.path))
    assert f"OK {crate}" in run_check(python, crate, tmp_path)


# --- bad input ----------------------------------------------------------------------------


def test_bin_bindings_on_a_library_only_crate_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no binary target"):
        maturin_nox.build(manifest_path=CRATES / "cffi-pure", bindings="bin", out_dir=tmp_path)


@pytest.mark.parametrize("bindings", ["pyo3", "pyo3-ffi", "uniffi"])
def test_bindings_the_crate_does_not_use_is_a_config_error(bindings, tmp_path):
    crate = copy_crate("cffi-pure", tmp_path / "crate")
    toml = crate / "pyproject.toml"
    toml.write_text(toml.read_text().replace('bindings = "cffi"', f'bindings = "{bindings}"'))
    crate_name = {"pyo3": "pyo3", "pyo3-ffi": "pyo3-ffi", "uniffi": "uniffi"}[bindings]
    with pytest.raises(ConfigError, match=f"does not depend on the {crate_name} crate"):
        maturin_nox.build(manifest_path=crate, out_dir=tmp_path / "out")


def test_unknown_bindings_in_pyproject_is_a_config_error(tmp_path):
    crate = copy_crate("hello-bin", tmp_path / "crate")
    toml = crate / "pyproject.toml"
    toml.write_text(toml.read_text().replace('bindings = "bin"', 'bindings = "wasm"'))
    with pytest.raises(ConfigError, match=r"tool\.maturin\.bindings"):
        maturin_nox.build(manifest_path=crate, out_dir=tmp_path / "out")
