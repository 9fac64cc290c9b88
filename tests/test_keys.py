"""[tool.maturin] keys and project layouts, built by maturin-nox and maturin 1.16 side by side.

Each test crate (``test-crates/tc-*``) exercises a key or layout of maturin 1.16 that
maturin-nox once read wrongly or not at all; both tools build it, the wheel names and
file lists must agree, and the crate's check script runs against the installed wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List, Optional, Sequence

import pytest
from conftest import CRATES, pip_install, pyenv_python, run_check
from test_bindings import copy_crate, wheel_files

import maturin_nox
from maturin_nox.errors import MaturinNoxError
from maturin_nox.interpreters import resolve
from maturin_nox.plan import plan_targets
from maturin_nox.project import load_project

pytestmark = pytest.mark.slow


def maturin(
    cwd: Path, out: Path, target: Path, *args: str, env: Optional[dict] = None
) -> List[Path]:
    """``maturin build`` from ``cwd`` (dev profile, no audit unless asked); its wheels."""
    full = {**os.environ, "CARGO_TARGET_DIR": str(target), **(env or {})}
    full.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        ["maturin", "build", "--profile", "dev", "-o", str(out), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sorted(out.glob("*.whl"))


def nox(cwd: Path, out: Path, target: Path, **options: object) -> List[Path]:
    """maturin-nox's build from ``cwd``; its wheels, sorted by name."""
    options.setdefault("compatibility", "linux")
    wheels = maturin_nox.build(cwd=cwd, out_dir=out, target_dir=target, **options)
    return sorted(w.path for w in wheels)


def same_wheels(ours: Sequence[Path], theirs: Sequence[Path]) -> None:
    assert [p.name for p in ours] == [p.name for p in theirs]
    for a, b in zip(ours, theirs):
        assert wheel_files(a) == wheel_files(b), a.name


def check_in_venv(wheel: Path, crate: str, version: str, tmp_path: Path, fresh_venv) -> None:
    """Install the wheel into a fresh venv of ``version`` and run the crate's check script."""
    python = fresh_venv(version)
    pip_install(python, str(wheel))
    assert f"OK {crate}" in run_check(python, crate, tmp_path)


def py(version: str) -> str:
    return str(pyenv_python(version))


# --- layouts -----------------------------------------------------------------------------


def test_src_layout_is_found_without_manifest_path_as_maturin_finds_it(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    crate = CRATES / "tc-src-layout"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"])
    theirs = maturin(
        crate, tmp_path / "m", maturin_target, "-i", py("3.12"), "--compatibility", "linux"
    )
    same_wheels(ours, theirs)
    assert {"tc_src_layout/__init__.py", "tc_src_layout/words.py"} <= wheel_files(ours[0])
    check_in_venv(ours[0], "tc-src-layout", "3.12", tmp_path, fresh_venv)


def test_src_layout_built_with_m_finds_the_pyproject_toml_above(
    tmp_path, cargo_target, maturin_target
) -> None:
    crate = CRATES / "tc-src-layout"
    ours = nox(
        crate, tmp_path / "n", cargo_target, interpreters=["3.12"], manifest_path="rust/Cargo.toml"
    )
    theirs = maturin(
        crate,
        tmp_path / "m",
        maturin_target,
        "-i",
        py("3.12"),
        "-m",
        "rust/Cargo.toml",
        "--compatibility",
        "linux",
    )
    same_wheels(ours, theirs)
    with zipfile.ZipFile(ours[0]) as zf:
        entry_points = zf.read("tc_src_layout-0.3.1.dist-info/entry_points.txt").decode()
    assert "tc-src-layout=tc_src_layout:main" in entry_points  # the pyproject.toml was read


def test_python_source_in_a_workspace_and_the_crates_own_features(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    crate = CRATES / "tc-py-workspace"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"])
    theirs = maturin(
        crate, tmp_path / "m", maturin_target, "-i", py("3.12"), "--compatibility", "linux"
    )
    same_wheels(ours, theirs)
    # a sibling member's abi3-py38 is not this crate's: version-specific, as maturin tags it
    assert ours[0].name == "tc_py_workspace-1.2.0-cp312-cp312-linux_x86_64.whl"
    assert {
        "tc_py_workspace/__init__.py",
        "tc_py_workspace/extras/twice.py",
        "tc_py_workspace_tools/__init__.py",
        "tc_py_workspace/_ext.cpython-312-x86_64-linux-gnu.so",
    } <= wheel_files(ours[0])
    check_in_venv(ours[0], "tc-py-workspace", "3.12", tmp_path, fresh_venv)


def test_m_into_a_workspace_member_finds_the_pyproject_toml_two_folders_up(
    tmp_path, cargo_target, maturin_target
) -> None:
    crate = copy_crate("tc-py-workspace", tmp_path / "tc-py-workspace")
    pyproject = crate / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('manifest-path = "rust/ext/Cargo.toml"\n', "")
    )
    manifest = "rust/ext/Cargo.toml"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"], manifest_path=manifest)
    theirs = maturin(
        crate,
        tmp_path / "m",
        maturin_target,
        "-i",
        py("3.12"),
        "-m",
        manifest,
        "--compatibility",
        "linux",
    )
    same_wheels(ours, theirs)
    assert "tc_py_workspace/extras/twice.py" in wheel_files(ours[0])


def test_a_binary_using_pyo3_only_through_a_sibling_is_py3_none_with_only_its_listed_bins(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    crate = CRATES / "tc-bin-workspace" / "tool"
    ours = nox(crate, tmp_path / "n", cargo_target)
    theirs = maturin(crate, tmp_path / "m", maturin_target, "--compatibility", "linux")
    same_wheels(ours, theirs)
    assert ours[0].name == "tc_bin_workspace-0.4.0-py3-none-linux_x86_64.whl"
    scripts = {n for n in wheel_files(ours[0]) if "/scripts/" in n}
    assert scripts == {"tc_bin_workspace-0.4.0.data/scripts/tc-tool"}
    python = fresh_venv("3.12")
    pip_install(python, str(ours[0]))
    script = crate / "check_installed.py"
    rundir = tmp_path / "check"
    rundir.mkdir()
    shutil.copy(script, rundir)
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(python), "check_installed.py"], cwd=rundir, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0 and "OK tc-bin-workspace" in proc.stdout, proc.stderr


def test_targets_that_match_nothing_fail_before_cargo_naming_the_key(tmp_path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(CRATES / "tc-bin-workspace", root, ignore=shutil.ignore_patterns("target"))
    pyproject = root / "tool" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('name = "tc-tool"', 'name = "tc-missing"'))
    with pytest.raises(MaturinNoxError) as info:
        maturin_nox.build(cwd=root / "tool", out_dir=tmp_path / "out")
    assert str(info.value).startswith(f"{pyproject}: tool.maturin.targets names no target")
    assert "tc-tool" in str(info.value) and "tc-extra" in str(info.value)


# --- out-dir includes, conditional features, PYO3_PYTHON -----------------------------------


def test_out_dir_includes_pack_what_build_scripts_wrote(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    crate = CRATES / "tc-out-dir"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"])
    theirs = maturin(
        crate, tmp_path / "m", maturin_target, "-i", py("3.12"), "--compatibility", "linux"
    )
    same_wheels(ours, theirs)
    assert {
        "tc_out_dir/generated.txt",
        "tc_out_dir/helper.txt",
        "tc_out_dir/data/colors.json",
        "tc_out_dir/data/nested/shapes.json",
    } <= wheel_files(ours[0])
    check_in_venv(ours[0], "tc-out-dir", "3.12", tmp_path, fresh_venv)


def test_an_out_dir_include_of_a_crate_without_build_script_is_one_sentence(
    tmp_path, cargo_target
) -> None:
    crate = copy_crate("tc-out-dir", tmp_path / "tc-out-dir")
    pyproject = crate / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'crate_name = "tc-out-dir-helper"', 'crate_name = "no-such-crate"'
        )
    )
    with pytest.raises(MaturinNoxError) as info:
        nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"])
    assert str(info.value) == (
        f"{pyproject}: tool.maturin.include asks for 'helper.txt' from the OUT_DIR of crate "
        '"no-such-crate", but this build ran no build script (build.rs) for it.'
    )
    assert not list((tmp_path / "n").glob("*.whl"))


def test_conditional_features_apply_per_interpreter(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    crate = CRATES / "tc-conditional"
    built = maturin_nox.build(
        cwd=crate,
        out_dir=tmp_path / "n",
        target_dir=cargo_target,
        interpreters=["3.9", "3.12"],
        compatibility="linux",
    )
    ours = sorted(w.path for w in built)
    theirs = maturin(
        crate,
        tmp_path / "m",
        maturin_target,
        "-i",
        py("3.9"),
        "-i",
        py("3.12"),
        "--compatibility",
        "linux",
    )
    same_wheels(ours, theirs)
    assert [p.name for p in ours] == [
        "tc_conditional-0.5.0-cp311-abi3-linux_x86_64.whl",
        "tc_conditional-0.5.0-cp39-cp39-linux_x86_64.whl",
    ]
    features = {w.target.python_tag: w.target.features for w in built}
    assert features == {"cp311": ("modern", "pyo3/abi3-py311"), "cp39": ("legacy",)}
    assert len({w.target.key for w in built}) == 2  # a target dir per feature set
    for wheel, version in ((ours[0], "3.12"), (ours[1], "3.9")):
        check_in_venv(wheel, "tc-conditional", version, tmp_path / version, fresh_venv)


def _venv_with_marker(tmp_path: Path) -> Path:
    """A venv of the pyenv 3.12 (its python a symlink) whose site-packages holds tc_venv_marker."""
    env_dir = tmp_path / "build-venv"
    subprocess.run([py("3.12"), "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "tc_venv_marker.py").write_text('VALUE = "read from the build venv"\n')
    return python


def test_pyo3_python_is_the_venv_interpreter_as_given(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    python = _venv_with_marker(tmp_path)
    assert os.path.realpath(python) != str(python)
    crate = CRATES / "tc-venv-build-script"
    built = maturin_nox.build(
        cwd=crate,
        out_dir=tmp_path / "n",
        target_dir=cargo_target,
        interpreters=[str(python)],
        compatibility="linux",
    )
    theirs = maturin(
        crate, tmp_path / "m", maturin_target, "-i", str(python), "--compatibility", "linux"
    )
    same_wheels([built[0].path], theirs)
    # the crate's build script may import the venv's packages: this venv's build is its own,
    # so a build for the base interpreter does not make cargo rerun it with the other python
    project = load_project(crate / "Cargo.toml")
    (base,) = plan_targets(project, [resolve(py("3.12"))])
    assert built[0].target.key != base.key
    assert built[0].target.key == plan_targets(project, [resolve(str(python))])[0].key
    check_in_venv(built[0].path, "tc-venv-build-script", "3.12", tmp_path, fresh_venv)


# --- abi3t ---------------------------------------------------------------------------------


def test_abi3_and_abi3t_crate_gives_abi3_wheels_for_the_interpreters_here(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    crate = CRATES / "tc-abi3t"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"])
    theirs = maturin(
        crate, tmp_path / "m", maturin_target, "-i", py("3.12"), "--compatibility", "linux"
    )
    same_wheels(ours, theirs)
    assert ours[0].name == "tc_abi3t-0.1.0-cp39-abi3-linux_x86_64.whl"
    assert "tc_abi3t/tc_abi3t.abi3.so" in wheel_files(ours[0])
    check_in_venv(ours[0], "tc-abi3t", "3.12", tmp_path / "12", fresh_venv)
    check_in_venv(ours[0], "tc-abi3t", "3.9", tmp_path / "9", fresh_venv)


def test_abi3t_wheel_for_cpython_315_is_built_without_it_as_maturin_does(
    tmp_path, cargo_target, maturin_target
) -> None:
    crate = CRATES / "tc-abi3t"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.15"])
    theirs = maturin(
        crate, tmp_path / "m", maturin_target, "-i", "python3.15", "--compatibility", "linux"
    )
    same_wheels(ours, theirs)
    assert ours[0].name == "tc_abi3t-0.1.0-cp315-abi3.abi3t-linux_x86_64.whl"
    with zipfile.ZipFile(ours[0]) as zf:
        wheel = zf.read("tc_abi3t-0.1.0.dist-info/WHEEL").decode()
        names = zf.namelist()
    tags = [line for line in wheel.splitlines() if line.startswith("Tag:")]
    assert tags == ["Tag: cp315-abi3-linux_x86_64", "Tag: cp315-abi3t-linux_x86_64"]
    assert "tc_abi3t/tc_abi3t.abi3t-x86_64-linux-gnu.so" in names


def test_abi3t_with_an_older_interpreter_falls_back_to_a_version_specific_wheel(
    tmp_path, cargo_target, maturin_target, caplog
) -> None:
    crate = CRATES / "tc-abi3t"
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12", "3.15"])
    theirs = maturin(
        crate,
        tmp_path / "m",
        maturin_target,
        "-i",
        py("3.12"),
        "-i",
        "python3.15",
        "--compatibility",
        "linux",
    )
    same_wheels(ours, theirs)
    assert [p.name for p in ours] == [
        "tc_abi3t-0.1.0-cp312-cp312-linux_x86_64.whl",
        "tc_abi3t-0.1.0-cp315-abi3.abi3t-linux_x86_64.whl",
    ]
    assert "abi3t does not yet support CPython 3.12" in caplog.text


# --- sbom.auditwheel, unstable-flags -------------------------------------------------------


def _auditwheel_sbom(wheel: Path) -> Optional[dict]:
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.endswith("/sboms/auditwheel.cdx.json")]
        return json.loads(zf.read(names[0])) if names else None


def _relinked_copy(dest: Path) -> Path:
    """A copy of tc-sbom-graft that cargo links afresh.

    maturin 1.16 repairs the library cargo left in its target dir in place: when cargo
    does not relink it, the next repair finds an already patched library and fails.
    """
    crate = copy_crate("tc-sbom-graft", dest)
    (crate / "src" / "lib.rs").touch()
    return crate


def test_a_repair_writes_an_sbom_of_the_grafted_library_as_maturin_does(
    tmp_path, cargo_target, maturin_target, fresh_venv
) -> None:
    if not shutil.which("dpkg") or not Path("/usr/lib/x86_64-linux-gnu/libsqlite3.so").exists():
        pytest.skip("needs Debian's libsqlite3-dev (the crate links the system SQLite)")
    crate = _relinked_copy(tmp_path / "on")
    ours = nox(crate, tmp_path / "n", cargo_target, interpreters=["3.12"], compatibility=None)
    theirs = maturin(crate, tmp_path / "m", maturin_target, "-i", py("3.12"))
    assert [p.name for p in ours] == [p.name for p in theirs]
    with zipfile.ZipFile(ours[0]) as a, zipfile.ZipFile(theirs[0]) as b:
        assert sorted(a.namelist()) == sorted(n for n in b.namelist())  # SBOMs included
    mine, reference = _auditwheel_sbom(ours[0]), _auditwheel_sbom(theirs[0])
    assert mine is not None and reference is not None
    for bom in (mine, reference):
        bom["metadata"].pop("tools")  # the tool that wrote it
    assert mine == reference
    check_in_venv(ours[0], "tc-sbom-graft", "3.12", tmp_path, fresh_venv)

    crate = _relinked_copy(tmp_path / "off")
    with open(crate / "pyproject.toml", "a") as fh:
        fh.write("sbom = { auditwheel = false }\n")
    (off,) = nox(crate, tmp_path / "n-off", cargo_target, interpreters=["3.12"], compatibility=None)
    (off_theirs,) = maturin(crate, tmp_path / "m-off", maturin_target, "-i", py("3.12"))
    assert _auditwheel_sbom(off) is None and _auditwheel_sbom(off_theirs) is None
    assert any(n.startswith("tc_sbom_graft.libs/") for n in wheel_files(off))


def test_unstable_flags_go_to_cargo_as_z(
    tmp_path, cargo_target, maturin_target, monkeypatch
) -> None:
    crate = copy_crate("hello-bin", tmp_path / "hello-bin")
    with open(crate / "pyproject.toml", "a") as fh:
        fh.write('unstable-flags = ["avoid-dev-deps"]\n')
    with pytest.raises(MaturinNoxError, match=r"-Z.*nightly"):
        nox(crate, tmp_path / "stable", cargo_target)
    if subprocess.run(["rustup", "run", "nightly", "cargo", "-V"], capture_output=True).returncode:
        pytest.skip("no nightly toolchain (rustup toolchain install nightly)")
    monkeypatch.setenv("RUSTUP_TOOLCHAIN", "nightly")
    ours = nox(crate, tmp_path / "n", cargo_target / "nightly")
    theirs = maturin(crate, tmp_path / "m", maturin_target / "nightly", "--compatibility", "linux")
    same_wheels(ours, theirs)


def test_interpreters_here_are_what_the_tests_expect() -> None:
    # the abi3t tests build for 3.15 from its version: it must not be installed
    from maturin_nox.errors import InterpreterError

    with pytest.raises(InterpreterError):
        resolve("3.15")
    assert sys.platform.startswith("linux")
