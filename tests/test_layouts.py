"""File layouts: python-source, python-packages, include/exclude, the data folder,
stubs, gitignored files and develop leftovers, compared with maturin 1.16."""

from __future__ import annotations

import logging
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import pip_install, run_check
from test_bindings import copy_crate, maturin_build, wheel_files

import maturin_nox
from maturin_nox import layout
from maturin_nox.config import GlobPattern
from maturin_nox.errors import ConfigError
from maturin_nox.project import load_project

LAYOUT_FILES = {
    "assets/notes.txt",  # include glob read from the project root
    "stray.txt",  # include inside python-source: path below that folder
    "tc_extra/__init__.py",  # python-packages
    "tc_layout/__init__.py",
    "tc_layout/helpers.py",
    "tc_layout/helpers.pyi",
    "tc_layout/py.typed",
    "tc_layout-0.3.0.data/data/share/tc-layout/readme.txt",
    "tc_layout-0.3.0.data/headers/tc_layout.h",
    "tc_layout-0.3.0.data/scripts/tc-layout",
    "tc_layout-0.3.0.data/scripts/tc-layout-sh",
    "tc_layout-0.3.0.dist-info/METADATA",
    "tc_layout-0.3.0.dist-info/WHEEL",
    "tc_layout-0.3.0.dist-info/RECORD",
}


@pytest.mark.slow
def test_layout_crate_matches_maturin_and_installs(
    wheel_builder, fresh_venv, tmp_path, maturin_target
):
    (wheel,) = wheel_builder("tc-layout", (), compatibility="linux")
    ours = wheel_files(wheel.path)
    assert ours == LAYOUT_FILES
    (theirs,) = maturin_build(
        Path(__file__).parents[1] / "test-crates/tc-layout/Cargo.toml",
        tmp_path / "m",
        maturin_target,
    )
    assert ours == wheel_files(theirs)
    with zipfile.ZipFile(wheel.path) as zf:
        mode = zf.getinfo("tc_layout-0.3.0.data/scripts/tc-layout-sh").external_attr >> 16
    assert mode & 0o111, "an executable data script keeps its mode"
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    assert "OK tc-layout" in run_check(python, "tc-layout", tmp_path)


def _git_copy(tmp_path: Path) -> Path:
    crate = copy_crate("tc-layout", tmp_path / "tc-layout")
    subprocess.run(["git", "init", "-q", str(crate)], check=True)
    return crate


@pytest.mark.slow
def test_gitignored_files_and_develop_leftovers_stay_out(tmp_path, cargo_target, maturin_target):
    crate = _git_copy(tmp_path)
    pkg = crate / "python" / "tc_layout"
    (pkg / ".gitignore").write_text("generated_*.py\n!generated_keep.py\nbuild-cache/\n")
    (pkg / "generated_a.py").write_text("x = 1\n")
    (pkg / "generated_keep.py").write_text("x = 2\n")
    (pkg / "build-cache").mkdir()
    (pkg / "build-cache" / "blob.bin").write_bytes(b"\0")
    # what `develop` leaves in the package: pyo3, cffi and debug-info names
    for name in ("tc_layout.cpython-312-x86_64-linux-gnu.so", "libtc_layout.so", "tc_layout.pdb"):
        (pkg / name).write_bytes(b"\x7fELF")
    (pkg / "vendored.so").write_bytes(b"\x7fELF")  # not ours: stays
    (wheel,) = maturin_nox.build(
        manifest_path=crate,
        out_dir=tmp_path / "out",
        target_dir=cargo_target,
        compatibility="linux",
    )
    ours = wheel_files(wheel.path)
    assert "tc_layout/generated_keep.py" in ours
    assert "tc_layout/vendored.so" in ours
    assert "tc_layout/.gitignore" in ours  # hidden files are sources too, as in maturin
    for dropped in ("generated_a.py", "build-cache/blob.bin", "libtc_layout.so", "tc_layout.pdb"):
        assert f"tc_layout/{dropped}" not in ours
    assert not any(".cpython-" in n for n in ours)
    (theirs,) = maturin_build(crate / "Cargo.toml", tmp_path / "m", maturin_target)
    assert ours == wheel_files(theirs)


@pytest.mark.slow
def test_data_key_and_pure_layout_stub_match_maturin(tmp_path, cargo_target, maturin_target):
    crate = copy_crate("cffi-pure", tmp_path / "cffi-pure")
    (crate / "cffi_pure.pyi").write_text("from typing import Any\nlib: Any\nffi: Any\n")
    (crate / "wheel-data" / "data").mkdir(parents=True)
    (crate / "wheel-data" / "data" / "cffi-pure.txt").write_text("data\n")
    (crate / "wheel-data" / "purelib").mkdir()
    (crate / "wheel-data" / "purelib" / "cffi_pure_extra.py").write_text("X = 1\n")
    with open(crate / "pyproject.toml", "a") as fh:
        fh.write('data = "wheel-data"\n')
    (wheel,) = maturin_nox.build(
        manifest_path=crate,
        interpreters=[sys.executable],
        out_dir=tmp_path / "out",
        target_dir=cargo_target,
        compatibility="linux",
    )
    ours = wheel_files(wheel.path)
    assert {
        "cffi_pure/__init__.pyi",
        "cffi_pure/py.typed",
        "cffi_pure-0.1.0.data/data/cffi-pure.txt",
        "cffi_pure-0.1.0.data/purelib/cffi_pure_extra.py",
    } <= ours
    (theirs,) = maturin_build(crate / "Cargo.toml", tmp_path / "m", maturin_target)
    assert ours == wheel_files(theirs)


@pytest.mark.slow
def test_include_that_matches_nothing_is_a_warning(tmp_path, caplog):
    crate = copy_crate("tc-layout", tmp_path / "tc-layout")
    toml = crate / "pyproject.toml"
    toml.write_text(toml.read_text().replace('"assets/*.txt",', '"assets/*.txt", "nothing/*.xyz",'))
    project = load_project(crate)
    with caplog.at_level(logging.WARNING, logger="maturin_nox"):
        files = layout.include_files(project, "wheel")
    assert set(files) == {"assets/notes.txt", "stray.txt"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'nothing/*.xyz'" in w and "matched no files" in w for w in warnings), warnings


@pytest.mark.slow
def test_sdist_includes_keep_project_relative_paths(tmp_path):
    crate = copy_crate("tc-layout", tmp_path / "tc-layout")
    project = load_project(crate)
    assert set(layout.include_files(project, "sdist")) == {"assets/notes.txt", "sdist-only.txt"}


@pytest.mark.slow
def test_include_pattern_leaving_the_project_is_a_config_error(tmp_path):
    crate = copy_crate("tc-layout", tmp_path / "tc-layout")
    toml = crate / "pyproject.toml"
    toml.write_text(toml.read_text().replace('"assets/*.txt",', '"../secrets/*",'))
    with pytest.raises(ConfigError, match=r"tool\.maturin\.include pattern '\.\./secrets/\*'"):
        layout.include_files(load_project(crate), "wheel")


@pytest.mark.slow
def test_unknown_folder_in_data_dir_is_a_config_error(tmp_path):
    crate = copy_crate("tc-layout", tmp_path / "tc-layout")
    (crate / "tc_layout.data" / "share").mkdir()
    project = load_project(crate)
    with pytest.raises(ConfigError, match="may only hold the folders data, scripts"):
        layout.data_files(project, "tc_layout-0.3.0.data")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.tmp", "python/pkg/a.tmp", True),  # no slash: any folder
        ("python/*.tmp", "python/pkg/a.tmp", False),  # * stays within a folder
        ("python/**/*.tmp", "python/pkg/a.tmp", True),
        ("/python/pkg/a.tmp", "python/pkg/a.tmp", True),  # leading slash anchors
        ("pkg/a.tmp", "python/pkg/a.tmp", False),  # a slash anchors at the project root
        ("python/pkg/", "python/pkg/a.tmp", False),  # folder-only globs never drop a file
        ("a.[tx]mp", "python/a.tmp", True),
    ],
)
def test_exclude_globs_read_as_gitignore_patterns(pattern, path, expected):
    assert layout.is_excluded(path, [GlobPattern(pattern)], "wheel") is expected


def test_exclude_format_applies_only_to_its_archive():
    sdist_only = GlobPattern("*.tmp", frozenset({"sdist"}))
    assert not layout.is_excluded("a.tmp", [sdist_only], "wheel")
    assert layout.is_excluded("a.tmp", [sdist_only], "sdist")


@pytest.mark.parametrize(
    ("relpath", "dropped"),
    [
        ("pkg/_native.cpython-312-x86_64-linux-gnu.so", True),
        ("pkg/lib_native.so", True),
        ("pkg/_native.pyd", True),
        ("pkg/_native.pdb", True),
        ("pkg/lib_native.dylib.dSYM/Contents/Info.plist", True),
        ("pkg/other.so", False),
        ("pkg/_native.py", False),
    ],
)
def test_develop_leftovers_are_recognised_by_extension_name(relpath, dropped):
    assert layout.is_develop_artifact(relpath, "_native") is dropped


def test_write_files_replaces_libraries_by_rename(tmp_path):
    lib = tmp_path / "src.so"
    lib.write_bytes(b"new")
    dest = tmp_path / "pkg"
    dest.mkdir()
    (dest / "lib.so").write_bytes(b"old")
    inode = (dest / "lib.so").stat().st_ino
    written = layout.write_files({"pkg/lib.so": lib, "pkg/__init__.py": b"x = 1\n"}, tmp_path)
    assert sorted(p.name for p in written) == ["__init__.py", "lib.so"]
    assert (dest / "lib.so").read_bytes() == b"new"
    assert (dest / "lib.so").stat().st_ino != inode
