"""uniffi: real uniffi crates (proc-macros with the crate's own ``uniffi-bindgen``
binary; a UDL file with ``uniffi-bindgen`` from PyPI and a ``uniffi.toml``)
built with the engine, compared with maturin 1.16, installed into fresh venvs
and used from a temporary folder; develop, leftovers and bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import (
    CRATES,
    TARGET,
    assert_record_valid_for_installer,
    assert_same_sbom,
    pip_install,
    run_check,
    wheel_contents,
)
from test_bindings import copy_crate, maturin_build, wheel_files

import maturin_nox
from maturin_nox.errors import BuildError
from maturin_nox.plan import BuildTarget
from maturin_nox.project import load_project
from maturin_nox.uniffi import uniffi_bindgen_command, uniffi_files

pytestmark = pytest.mark.slow

# the interpreter each crate's wheel is checked with: the oldest and the newest supported
CHECKED_WITH = {"uniffi-pure": "3.8", "uniffi-mixed": "3.13", "uniffi-multi": "3.12"}
GLUE = {
    "uniffi-pure": "uniffi_pure",
    "uniffi-mixed": "uniffi_mixed/shapes",
    "uniffi-multi": "uniffi_multi",
}


@pytest.fixture()
def bindgen_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyPI's ``uniffi-bindgen`` (a test dependency) on PATH, as the reference maturin needs it."""
    scripts = sysconfig.get_path("scripts")
    monkeypatch.setenv("PATH", f"{scripts}{os.pathsep}{os.environ['PATH']}")


# uniffi-multi: two generated modules, imported by __init__.py in the folder's order, as
# maturin imports them (the .py files are compared byte for byte below)
@pytest.mark.parametrize("crate", ["uniffi-pure", "uniffi-mixed", "uniffi-multi"])
def test_uniffi_wheel_matches_maturin_and_works_installed(
    crate, wheel_builder, fresh_venv, tmp_path, maturin_target, bindgen_on_path
):
    (wheel,) = wheel_builder(crate, ("3.12",))
    assert wheel.tag == "py3-none-manylinux_2_34_x86_64"
    ours = wheel_files(wheel.path)
    glue = GLUE[crate]
    assert {f"{glue}/__init__.py", f"{glue}/{glue.split('/')[-1]}.py"} <= ours
    assert not any("uniffi-bindgen" in name or ".data/" in name for name in ours)
    (theirs,) = maturin_build(CRATES / crate / "Cargo.toml", tmp_path / "m", maturin_target)
    assert ours == wheel_files(theirs)
    assert_record_valid_for_installer(wheel.path)
    assert_same_sbom(wheel_contents(wheel.path), wheel_contents(theirs))
    with zipfile.ZipFile(wheel.path) as a, zipfile.ZipFile(theirs) as b:
        for name in sorted(ours):
            if name.endswith((".py", ".pyi", "METADATA", "entry_points.txt")):
                assert a.read(name) == b.read(name), name
        library = next(n for n in ours if n.endswith(".so"))
        assert a.getinfo(library).external_attr >> 16 == b.getinfo(library).external_attr >> 16
    python = fresh_venv(CHECKED_WITH[crate])
    pip_install(python, str(wheel.path))
    assert f"OK {crate}" in run_check(python, crate, tmp_path)


def test_crate_bindgen_binary_runs_in_the_library_target_dir_and_profile(tmp_path):
    project = load_project(CRATES / "uniffi-pure")
    cmd, cwd = uniffi_bindgen_command(project, target_dir=tmp_path / "t", profile="release")
    assert cmd[1:5] == ["run", "--quiet", "--bin", "uniffi-bindgen"]
    assert cmd[cmd.index("--target-dir") + 1] == str(tmp_path / "t")
    assert "--release" in cmd and cmd[-1] == "--"
    assert cwd == CRATES / "uniffi-pure"
    cmd, _ = uniffi_bindgen_command(project, profile="bench")
    assert cmd[cmd.index("--profile") + 1] == "bench"


def test_develop_uniffi_mixed_places_fresh_glue_beside_the_sources(tmp_path, fresh_venv):
    crate = copy_crate("uniffi-mixed", tmp_path / "crate")
    python = fresh_venv("3.12")
    env = python.parent.parent
    glue = crate / "python" / "uniffi_mixed" / "shapes"
    glue.mkdir()
    # what an older develop could have left: stale glue and a library under another name
    (glue / "shapes.py").write_text("raise ImportError('stale glue')\n")
    (glue / "libold_name.so").write_bytes(b"\x7fELF stale")
    result = maturin_nox.develop(manifest_path=crate, env_path=env, target_dir=TARGET)
    assert result.editable
    assert (glue / "libshapes_native.so").is_file() and (glue / "__init__.py").is_file()
    assert "stale glue" not in (glue / "shapes.py").read_text()
    code = (
        "import uniffi_mixed, uniffi_mixed.shapes as s\n"
        "print(s.__file__)\n"
        "print(uniffi_mixed.total_area([uniffi_mixed.Shape.RECTANGLE(width=2.0, height=2.0)]))\n"
    )
    workdir = tmp_path / "run"
    workdir.mkdir()
    out = subprocess.run(
        [str(python), "-c", code], cwd=workdir, capture_output=True, text=True, check=True
    ).stdout.split()
    assert Path(out[0]).parent == glue and out[1] == "4.0"
    # a wheel built from that tree packs the fresh glue, not the develop leftovers
    (wheel,) = maturin_nox.build(
        manifest_path=crate, interpreters=["3.12"], out_dir=tmp_path / "out", target_dir=TARGET
    )
    names = wheel_files(wheel.path)
    assert "uniffi_mixed/shapes/libold_name.so" not in names
    with zipfile.ZipFile(wheel.path) as zf:
        assert b"stale glue" not in zf.read("uniffi_mixed/shapes/shapes.py")


def test_uniffi_crate_without_any_bindgen_fails_in_one_sentence_and_writes_no_wheel(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("maturin_nox.uniffi._installed_bindgen", lambda: None)
    out = tmp_path / "out"
    with pytest.raises(BuildError) as info:
        maturin_nox.build(
            manifest_path=CRATES / "uniffi-mixed",
            interpreters=["3.12"],
            out_dir=out,
            target_dir=TARGET,
        )
    message = str(info.value)
    assert "uniffi-mixed" in message and "uniffi-bindgen" in message
    assert "[[bin]]" in message and "pip install uniffi-bindgen" in message
    assert not out.exists() or not list(out.iterdir())


# --- with a stand-in uniffi-bindgen (no cargo) -------------------------------------------

FAKE_BINDGEN = """#!/bin/sh
# stands in for uniffi-bindgen: records its arguments, writes one module
out=""
while [ $# -gt 0 ]; do
  [ "$1" = "--out-dir" ] && out="$2"
  echo "$1" >> "$ARGS_LOG"
  shift
done
echo "def add(a, b): return a + b" > "$out/math_ops.py"
"""


def test_uniffi_files_from_bindgen_on_path(tmp_path, monkeypatch):
    crate = copy_crate("cffi-pure", tmp_path / "crate")
    (crate / "uniffi.toml").write_text('[bindings.python]\ncdylib_name = "mathops"\n')
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "uniffi-bindgen"
    script.write_text(FAKE_BINDGEN)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ARGS_LOG", str(tmp_path / "args"))
    lib = tmp_path / "libcffi_pure.so"
    lib.write_bytes(b"\x7fELF")
    project = load_project(crate)
    files = uniffi_files(project, BuildTarget("py3-none", "py3", "none", None), lib)
    assert files["cffi_pure/__init__.py"] == b"from .math_ops import *  # NOQA\n"
    assert files["cffi_pure/math_ops.py"].startswith(b"def add")  # type: ignore[union-attr]
    assert files["cffi_pure/libmathops.so"] == lib
    args = (tmp_path / "args").read_text().split()
    assert args[:4] == ["generate", "--no-format", "--language", "python"]
    assert "--library" in args and str(lib) in args and str(crate / "uniffi.toml") in args


def test_modules_of_external_packages_are_neither_packed_nor_imported(tmp_path, monkeypatch):
    crate = copy_crate("cffi-pure", tmp_path / "crate")
    (crate / "uniffi.toml").write_text(
        '[bindings.python.external_packages]\nshared_types = "other_dist.shared_types"\n'
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "uniffi-bindgen"
    script.write_text(FAKE_BINDGEN + 'echo "X = 1" > "$out/shared_types.py"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ARGS_LOG", str(tmp_path / "args"))
    lib = tmp_path / "libcffi_pure.so"
    lib.write_bytes(b"\x7fELF")
    project = load_project(crate)
    files = uniffi_files(project, BuildTarget("py3-none", "py3", "none", None), lib)
    assert files["cffi_pure/__init__.py"] == b"from .math_ops import *  # NOQA\n"
    assert "cffi_pure/shared_types.py" not in files


def test_generated_glue_is_reused_until_the_library_or_uniffi_toml_changes(tmp_path, monkeypatch):
    crate = copy_crate("cffi-pure", tmp_path / "crate")
    config = crate / "uniffi.toml"
    config.write_text('[bindings.python]\ncdylib_name = "mathops"\n')
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "uniffi-bindgen").write_text(FAKE_BINDGEN)
    (bindir / "uniffi-bindgen").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "args"
    monkeypatch.setenv("ARGS_LOG", str(log))
    lib = tmp_path / "libcffi_pure.so"
    lib.write_bytes(b"\x7fELF")
    project = load_project(crate)
    target = BuildTarget("py3-none", "py3", "none", None)

    def runs() -> int:
        return log.read_text().splitlines().count("generate") if log.exists() else 0

    first = uniffi_files(project, target, lib, target_dir=tmp_path / "t")
    assert runs() == 1
    assert uniffi_files(project, target, lib, target_dir=tmp_path / "t") == first
    assert runs() == 1  # nothing changed: the glue comes from the target dir
    lib.write_bytes(b"\x7fELF relinked")
    uniffi_files(project, target, lib, target_dir=tmp_path / "t")
    assert runs() == 2
    config.write_text('[bindings.python]\ncdylib_name = "other"\n')
    files = uniffi_files(project, target, lib, target_dir=tmp_path / "t")
    assert runs() == 3 and "cffi_pure/libother.so" in files


def test_bindgen_beside_the_running_interpreter_is_found_off_path(tmp_path, monkeypatch):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "uniffi-bindgen").write_text(FAKE_BINDGEN)
    (scripts / "uniffi-bindgen").chmod(0o755)
    project = load_project(CRATES / "cffi-pure")  # cargo metadata needs the real PATH
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("maturin_nox.uniffi.sysconfig.get_path", lambda name: str(scripts))
    cmd, _ = uniffi_bindgen_command(project)
    assert cmd == [str(scripts / "uniffi-bindgen")]
    assert shutil.which("uniffi-bindgen") is None
