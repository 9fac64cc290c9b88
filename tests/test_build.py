"""Integration tests of the build engine: real crates, real cargo, real
interpreters, wheels installed with pip into fresh venvs and checked from a
temporary folder, and compared with what maturin builds from the same crate."""

from __future__ import annotations

import email.parser
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import (
    CRATES,
    PYTHONS,
    assert_record_valid_for_installer,
    assert_same_sbom,
    pip_install,
    run_check,
)

from maturin_nox.wheel import read_wheel

pytestmark = pytest.mark.slow

# rust-cpython: maturin 1.16 no longer builds it (support removed in maturin 1.6);
# maturin-nox does, for every CPython installed here (3.8 to 3.13).
PER_INTERPRETER = [
    "pyo3-pure",
    "pyo3-mixed",
    "pyo3-workspace",
    "pyo3-ffi-pure",
    "rust-cpython",
    "with-data",
]


@pytest.mark.parametrize("crate", PER_INTERPRETER)
def test_crate_builds_one_wheel_per_interpreter_and_each_passes_its_check(
    crate: str, wheel_builder, fresh_venv, tmp_path: Path
) -> None:
    wheels = wheel_builder(crate)
    assert len(wheels) == len(PYTHONS)
    for version, wheel in zip(PYTHONS, wheels):
        tag = "cp" + version.replace(".", "")
        assert wheel.path.name.split("-")[2:4] == [tag, tag], wheel.path.name
        assert [i.version_str for i in wheel.interpreters] == [version]
        read_wheel(wheel.path)  # RECORD hashes verified by our reader...
        assert_record_valid_for_installer(wheel.path)  # ...and by pip's installer
        python = fresh_venv(version)
        pip_install(python, str(wheel.path))
        assert "OK" in run_check(python, crate, tmp_path)


def test_abi3_crate_builds_one_wheel_for_all_interpreters(
    wheel_builder, fresh_venv, tmp_path: Path
) -> None:
    wheels = wheel_builder("pyo3-abi3")
    assert len(wheels) == 1
    wheel = wheels[0]
    assert "-cp38-abi3-" in wheel.path.name
    assert sorted(i.version_str for i in wheel.interpreters) == sorted(PYTHONS)
    names = zipfile.ZipFile(wheel.path).namelist()
    assert any(n.endswith(".abi3.so") for n in names), names
    for version in PYTHONS:
        python = fresh_venv(version)
        pip_install(python, str(wheel.path))
        assert "OK" in run_check(python, "pyo3-abi3", tmp_path)


def test_rebuilding_for_another_interpreter_keeps_the_first_build(
    wheel_builder, cargo_target
) -> None:
    first = wheel_builder("pyo3-pure", ("3.9",))[0]
    target_39 = cargo_target / "maturin-nox" / first.target.key
    artifacts = sorted(target_39.glob("debug/*.so"))
    assert artifacts, f"no artifact in {target_39}"
    before = {a: a.stat().st_mtime_ns for a in artifacts}
    wheel_builder("pyo3-pure", ("3.12",))
    from maturin_nox import build

    again = build(
        manifest_path=CRATES / "pyo3-pure" / "Cargo.toml",
        interpreters=["3.9"],
        out_dir=first.path.parent / "again",
        target_dir=cargo_target,
    )
    assert again[0].target.key == first.target.key
    # cargo did not relink: the 3.12 build did not disturb the 3.9 one
    assert {a: a.stat().st_mtime_ns for a in artifacts} == before


def test_wheels_are_reproducible_with_source_date_epoch(
    wheel_builder, cargo_target, tmp_path: Path, monkeypatch
) -> None:
    from maturin_nox import build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    manifest = CRATES / "pyo3-mixed" / "Cargo.toml"
    a = build(
        manifest_path=manifest,
        interpreters=["3.12"],
        out_dir=tmp_path / "a",
        target_dir=cargo_target,
    )
    b = build(
        manifest_path=manifest,
        interpreters=["3.12"],
        out_dir=tmp_path / "b",
        target_dir=cargo_target,
    )
    assert a[0].path.read_bytes() == b[0].path.read_bytes()
    info = zipfile.ZipFile(a[0].path).infolist()[0]
    assert info.date_time[:3] == (2023, 11, 14)
    assert not list((tmp_path / "a").glob(".*")), "staging left behind"


# --- against maturin ---------------------------------------------------------------------


def _maturin_build(crate: str, version: str, out: Path, target: Path) -> Path:
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    from conftest import pyenv_python

    proc = subprocess.run(  # from the project folder, as a user runs it
        ["maturin", "build", "-q", "-i", str(pyenv_python(version)), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=CRATES / crate,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def _contents(path: Path) -> Dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _comparable(names: List[str]) -> List[str]:
    return sorted(names)


@pytest.mark.parametrize(
    "crate",
    [
        "pyo3-pure",
        "pyo3-mixed",
        "pyo3-abi3",
        "pyo3-workspace",
        "pyo3-ffi-pure",
        "with-data",
        "sdist-path-dep",
    ],
)
def test_same_wheel_as_maturin(crate: str, wheel_builder, maturin_target, tmp_path: Path) -> None:
    ours = wheel_builder(crate, ("3.12",))[0].path
    theirs = _maturin_build(crate, "3.12", tmp_path, maturin_target)
    assert ours.name == theirs.name
    assert_record_valid_for_installer(ours)
    a, b = _contents(ours), _contents(theirs)
    assert _comparable(list(a)) == _comparable(list(b))
    assert_same_sbom(a, b)
    # the same order in the archive and in RECORD (maturin sorts by path component)
    assert list(a) == list(b)
    record = next(n for n in a if n.endswith(".dist-info/RECORD"))

    def rows(data: bytes) -> List[str]:
        return [line.split(",")[0] for line in data.decode().splitlines()]

    assert rows(a[record]) == rows(b[record])
    parse = email.parser.BytesParser().parsebytes
    dist_info = next(n for n in a if n.endswith(".dist-info/METADATA"))
    ma, mb = parse(a[dist_info]), parse(b[dist_info])
    assert sorted(ma.items()) == sorted(mb.items())
    assert ma.get_payload() == mb.get_payload()
    for name in a:
        if name.endswith((".py", ".pyi", "entry_points.txt", "py.typed")) or "/licenses/" in name:
            assert a[name] == b[name], name
    wheel_file = next(n for n in a if n.endswith(".dist-info/WHEEL"))

    def tags(text: bytes) -> List[str]:
        return sorted(ln for ln in text.decode().splitlines() if ln.startswith(("Tag", "Root")))

    assert tags(a[wheel_file]) == tags(b[wheel_file])


def test_unchanged_inputs_reuse_the_wheel_and_a_python_edit_rebuilds_it(
    cargo_target, tmp_path: Path
) -> None:
    import shutil

    from maturin_nox import build

    crate = tmp_path / "pyo3-mixed"
    shutil.copytree(CRATES / "pyo3-mixed", crate, ignore=shutil.ignore_patterns("target"))
    kw = dict(
        manifest_path=crate / "Cargo.toml",
        interpreters=["3.12"],
        out_dir=tmp_path / "w",
        target_dir=cargo_target,
    )
    first = build(**kw)[0]
    second = build(**kw)[0]
    assert not first.reused and second.reused and second.path == first.path
    init = crate / "python" / "pyo3_mixed" / "__init__.py"
    init.write_text(init.read_text() + "\nEDITED = True\n")
    third = build(**kw)[0]
    assert not third.reused
    assert b"EDITED = True" in zipfile.ZipFile(third.path).read("pyo3_mixed/__init__.py")


def test_linked_library_is_grafted_and_the_wheel_imports_without_the_original(
    wheel_builder, fresh_venv, cargo_target, tmp_path: Path
) -> None:
    (wheel,) = wheel_builder("linked-lib", ("3.12",))
    names = zipfile.ZipFile(wheel.path).namelist()
    grafted = [n for n in names if n.startswith("linked_lib.libs/libtinymath-")]
    assert grafted, names
    assert "manylinux" in wheel.tag
    originals = list((cargo_target / "maturin-nox" / wheel.target.key).rglob("libtinymath.so*"))
    assert originals
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    hidden = []
    try:
        for lib in originals:  # out of reach: only the grafted copy can be loaded
            lib.rename(lib.with_name(lib.name + ".hidden"))
            hidden.append(lib)
        assert "OK" in run_check(python, "linked-lib", tmp_path)
    finally:
        for lib in hidden:
            lib.with_name(lib.name + ".hidden").rename(lib)


def test_zig_builds_a_manylinux2014_wheel_without_docker(
    wheel_builder, fresh_venv, tmp_path: Path
) -> None:
    import shutil

    if shutil.which("cargo-zigbuild") is None:
        pytest.skip("cargo-zigbuild is not installed (pip install 'maturin-nox[zig]')")
    (wheel,) = wheel_builder("pyo3-pure", ("3.12",), zig=True)
    # --zig links against glibc 2.17 and defaults to manylinux2014
    assert "manylinux_2_17_x86_64" in wheel.tag and "manylinux2014_x86_64" in wheel.tag, wheel.tag
    assert wheel.policy == "manylinux_2_17"
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    assert "OK" in run_check(python, "pyo3-pure", tmp_path)
