"""The PEP 517/660 backend: real ``pip install`` (and ``-e``) and ``python -m build`` under
build isolation, with maturin-nox itself installed into the throwaway build environment
from a wheel built once per session; plus the hooks called in-process.

Isolated builds share the test cargo cache through ``CARGO_TARGET_DIR`` and use the
dev profile (``build-args``/``MATURIN_PEP517_ARGS``) to stay quick.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict

import pytest
from conftest import CRATES, TARGET, pyenv_python, run_check

from maturin_nox import backend
from maturin_nox.errors import ConfigError
from maturin_nox.venv import create

PYTHON = "3.12"  # the interpreter whose dev-profile cargo cache the other tests warm


def copy_crate(name: str, dest: Path) -> Path:
    """A private copy of a test crate (without build output) that a test may edit."""
    target = dest / name
    shutil.copytree(CRATES / name, target, ignore=shutil.ignore_patterns("target", "*.so"))
    return target


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a wheel of maturin-nox itself, built once per session."""
    out = tmp_path_factory.mktemp("maturin-nox-wheel")
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(repo)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list(out.glob("maturin_nox_core-*.whl"))) == 1
    return out


def isolated_env(wheelhouse: Path, **extra: str) -> Dict[str, str]:
    """The environment of an isolated build: our wheel findable, the cargo cache shared."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    links = [str(wheelhouse), *os.environ.get("PIP_FIND_LINKS", "").split()]
    env.update(PIP_FIND_LINKS=" ".join(links), CARGO_TARGET_DIR=str(TARGET), **extra)
    return env


def pip(python: Path, *args: str, env: Dict[str, str]) -> None:
    """``python -m pip install ARGS``, failing with pip's output."""
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def run_python(python: Path, code: str, cwd: Path) -> str:
    """Run code with an env's python from a neutral folder; return stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture()
def venv(tmp_path: Path) -> Path:
    """A fresh 3.12 virtualenv with pip; returns its folder."""
    return create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").path


# --- real front ends under build isolation ----------------------------------------------


@pytest.mark.slow
def test_pip_install_builds_a_wheel_in_an_isolated_environment(
    wheelhouse: Path, venv: Path, tmp_path: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    python = venv / "bin" / "python"
    pip(python, "-C", "build-args=--profile dev", str(crate), env=isolated_env(wheelhouse))
    run_check(python, "pyo3-pure", tmp_path)
    site = next((venv / "lib").glob("python*/site-packages"))
    wheel_file = (site / "pyo3_pure-2.1.2.dist-info" / "WHEEL").read_text()
    assert "Generator: maturin-nox" in wheel_file
    assert "Tag: cp312-cp312-linux_x86_64" in wheel_file  # compatibility off, as maturin's backend


@pytest.mark.slow
def test_editable_mixed_install_sees_python_edits_at_once_and_rust_edits_after_develop(
    wheelhouse: Path, venv: Path, tmp_path: Path
) -> None:
    crate = copy_crate("pyo3-mixed", tmp_path)
    python = venv / "bin" / "python"
    env = isolated_env(wheelhouse, MATURIN_PEP517_ARGS="--profile dev")
    pip(python, "-e", str(crate), env=env)

    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "pyo3_mixed.pth").read_text() == str((crate / "python").resolve())
    assert list((crate / "python" / "pyo3_mixed").glob("_native.cpython-312*.so"))
    direct_url = json.loads((site / "pyo3_mixed-0.4.0.dist-info" / "direct_url.json").read_text())
    assert direct_url["dir_info"] == {"editable": True}
    code = "import pyo3_mixed; print(pyo3_mixed.get_21(), pyo3_mixed.get_42())"
    assert run_python(python, code, tmp_path) == "21 42"

    init = crate / "python" / "pyo3_mixed" / "__init__.py"
    init.write_text(init.read_text().replace("get_21() * 2", "get_21() * 3"))
    assert run_python(python, code, tmp_path) == "21 63", "a Python edit needs no rebuild"

    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("    21\n", "    22\n"))
    # the editable install rebuilds itself when imported after a Rust edit
    assert run_python(python, code, tmp_path) == "22 66", "a Rust edit is rebuilt on import"
    lib.write_text(lib.read_text().replace("    22\n", "    23\n"))
    proc = subprocess.run(
        [sys.executable, "-m", "maturin_nox", "develop", "--target-dir", str(TARGET)],
        cwd=crate,
        capture_output=True,
        text=True,
        env={**os.environ, "VIRTUAL_ENV": str(venv)},
    )
    assert proc.returncode == 0, proc.stderr
    assert run_python(python, code, tmp_path) == "23 69"
    # develop replaced pip's install: one dist-info, ours.
    dist_infos = list(site.glob("pyo3_mixed-*.dist-info"))
    assert [d.name for d in dist_infos] == ["pyo3_mixed-0.4.0.dist-info"]
    assert (dist_infos[0] / "INSTALLER").read_text().strip() == "maturin-nox"


@pytest.mark.slow
def test_python_m_build_makes_an_sdist_and_a_wheel_from_it(
    wheelhouse: Path, tmp_path: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    out = tmp_path / "dist"
    args = f"build-args=--profile dev -i {pyenv_python(PYTHON)}"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), "-C", args, str(crate)],
        capture_output=True,
        text=True,
        env=isolated_env(wheelhouse),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["pyo3_pure-2.1.2-cp312-cp312-linux_x86_64.whl", "pyo3_pure-2.1.2.tar.gz"]
    with zipfile.ZipFile(out / names[0]) as zf:
        listed = zf.namelist()
    assert "pyo3_pure/__init__.py" in listed and "pyo3_pure/__init__.pyi" in listed
    assert any(n.startswith("pyo3_pure/pyo3_pure.cpython-312") for n in listed)


# --- hooks in-process -------------------------------------------------------------------


@pytest.mark.slow
def test_prepare_metadata_writes_the_dist_info_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maturin_nox.interpreters import probe

    crate = copy_crate("pyo3-mixed", tmp_path)
    target = tmp_path / "empty-target"
    monkeypatch.chdir(crate)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(target))
    monkeypatch.delenv("MATURIN_PEP517_ARGS", raising=False)
    monkeypatch.setenv("MATURIN_NOX_WARM", "0")  # the hook's own work, not a warm build's
    out = tmp_path / "meta"
    out.mkdir()
    name = backend.prepare_metadata_for_build_wheel(str(out))
    assert name == "pyo3_mixed-0.4.0.dist-info"
    metadata = (out / name / "METADATA").read_text()
    assert "Name: pyo3-mixed\n" in metadata and "Version: 0.4.0\n" in metadata
    assert "Provides-Extra: test" in metadata
    assert "pyo3-mixed-greet=pyo3_mixed:main" in (out / name / "entry_points.txt").read_text()
    interp = probe(sys.executable)
    assert (
        f"Tag: {interp.python_tag}-{interp.abi_tag}-linux_x86_64"
        in (out / name / "WHEEL").read_text()
    )
    assert not (target / "maturin-nox").exists(), "nothing was compiled"
    assert backend.prepare_metadata_for_build_editable(str(tmp_path / "meta2")) == name


@pytest.mark.slow
def test_build_editable_of_a_pure_project_is_a_normal_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    monkeypatch.chdir(crate)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(TARGET))
    settings = {"build-args": f"--profile dev -i {pyenv_python(PYTHON)}"}
    name = backend.build_editable(str(tmp_path / "out"), settings)
    assert name == "pyo3_pure-2.1.2-cp312-cp312-linux_x86_64.whl"
    with zipfile.ZipFile(tmp_path / "out" / name) as zf:
        listed = zf.namelist()
    # a normal wheel, plus the finder that rebuilds it on import (its .pth, module, data)
    assert "pyo3_pure/__init__.py" in listed
    assert [n for n in listed if n.endswith(".pth")] == ["_maturin_nox_rebuild_pyo3_pure.pth"]


def test_bad_build_args_fail_with_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(copy_crate("pyo3-pure", tmp_path))
    with pytest.raises(SystemExit) as info:
        backend.build_wheel(str(tmp_path / "out"), {"build-args": "--no-such-flag"})
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "--no-such-flag" in err and "build-args" in err and "Traceback" not in err


def test_build_args_come_from_config_settings_else_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MATURIN_PEP517_ARGS", "--features env-feature")
    assert backend.build_args(None) == ["--features", "env-feature"]
    assert backend.build_args({"build-args": "--features 'a b'"}) == ["--features", "a b"]
    assert backend.build_args({"build-args": ["-F x", "--release"]}) == ["-F", "x", "--release"]
    both = {"maturin.build-args": "--profile p", "build-args": "--profile q"}
    assert backend.build_args(both) == ["--profile", "p"]

    # after --: rustc's arguments (maturin's rustc-args), not cargo's
    options = backend.hook_options({"build-args": "-F foo -- -C target-cpu=native"})
    assert options.interpreters == (sys.executable,)
    assert options.compatibility == ("off",)
    assert options.features == ("foo",) and options.rustc_args == ("-C", "target-cpu=native")
    assert options.cargo_args == ()
    chosen = backend.hook_options({"build-args": "-i python3.12 --compatibility 2_28 -Z x"})
    assert chosen.interpreters == ("python3.12",) and chosen.compatibility == ("manylinux_2_28",)
    assert chosen.unstable_flags == ("x",)
    with pytest.raises(ConfigError, match="build-args"):
        backend.hook_options({"build-args": "--jobs not-a-number"})


@pytest.mark.slow
def test_profiles_default_to_release_and_editable_profile_applies_to_editables(
    tmp_path: Path,
) -> None:
    from maturin_nox.plan import resolve_profile
    from maturin_nox.project import load_project

    crate = copy_crate("pyo3-pure", tmp_path)
    pyproject = crate / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'editable-profile = "dev"\n')
    config = load_project(crate / "Cargo.toml").config
    assert resolve_profile(config, backend.hook_options(None)) == "release"
    assert resolve_profile(config, backend.hook_options(None, editable=True)) == "dev"
    chosen = backend.hook_options({"build-args": "--profile bench"}, editable=True)
    assert resolve_profile(config, chosen) == "bench"
    release = backend.hook_options({"build-args": "-r"}, editable=True)
    assert resolve_profile(config, release) == "release"


def write(path: Path, text: str) -> None:
    """Create a file with its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cffi_projects_ask_for_cffi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CRATES / "pyo3-pure")
    monkeypatch.setenv("MATURIN_NOX_WARM", "0")  # no compile in the background of the suite
    assert backend.get_requires_for_build_wheel() == []
    assert backend.get_requires_for_build_sdist() == []

    declared = tmp_path / "declared"
    write(declared / "pyproject.toml", '[tool.maturin]\nbindings = "cffi"\n')
    monkeypatch.chdir(declared)
    assert backend.get_requires_for_build_wheel() == ["cffi"]
    assert backend.get_requires_for_build_editable() == ["cffi"]

    detected = tmp_path / "detected"
    write(
        detected / "Cargo.toml",
        '[package]\nname = "c"\nversion = "0.1.0"\n\n[dependencies]\nlibc = "0.2"\n',
    )
    write(detected / "src" / "lib.rs", "")
    monkeypatch.chdir(detected)
    assert backend.get_requires_for_build_wheel() == ["cffi"]

    binary = tmp_path / "binary"
    write(binary / "Cargo.toml", '[package]\nname = "b"\nversion = "0.1.0"\n')
    write(binary / "src" / "main.rs", "fn main() {}\n")
    monkeypatch.chdir(binary)
    assert backend.get_requires_for_build_wheel() == []


HOOK = """
import json, os, sys
from maturin_nox import backend
chosen = backend.hook_options(None).interpreters[0]
built = backend.build_wheel(sys.argv[1], {"build-args": sys.argv[2]}) if len(sys.argv) > 2 else None
print(json.dumps({"chosen": chosen, "built": built, "executable": sys.executable,
                  "base": os.path.realpath(sys._base_executable)}))
"""


def _target_key(python: Path) -> str:
    """The target dir key of a CPython 3.12 build: tags, then a hash of the real executable."""
    import hashlib

    digest = hashlib.sha256(os.path.realpath(python).encode()).hexdigest()[:10]
    return f"cp312-cp312-{digest}"


@pytest.mark.slow
def test_use_base_python_builds_for_the_base_interpreter_of_a_real_venv(
    wheelhouse: Path, tmp_path: Path
) -> None:
    base = pyenv_python(PYTHON)
    env_dir = tmp_path / "venv"
    # --copies: the venv's python is its own file, so its real path is not the base's
    subprocess.run([str(base), "-m", "venv", "--copies", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip(python, "-q", "--find-links", str(wheelhouse), "maturin-nox-core", env=env)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout's engine
    crate = copy_crate("pyo3-pure", tmp_path)
    pyproject = crate / "pyproject.toml"
    plain = pyproject.read_text()

    def hook(*args: str) -> Dict[str, str]:
        proc = subprocess.run(
            [str(python), "-c", HOOK, *args], cwd=crate, capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        result: Dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    without = hook()
    assert without["executable"] == str(python) and without["base"] == os.path.realpath(base)
    assert os.path.realpath(python) != os.path.realpath(base)  # base and venv differ
    assert without["chosen"] == str(python)  # the hook's own interpreter, by default

    pyproject.write_text(plain + "use-base-python = true\n")  # under [tool.maturin]
    out = tmp_path / "out"
    built = hook(str(out), f"--profile dev --target-dir {TARGET}")
    assert built["chosen"] == os.path.realpath(base)
    assert built["built"].startswith("pyo3_pure-") and "-cp312-cp312-" in built["built"]
    assert (out / built["built"]).is_file()
    # cargo built in the base interpreter's target dir, which now records this crate copy,
    # and never in one of the venv's
    root = TARGET / "maturin-nox"
    owners = json.loads((root / f"{_target_key(base)}.owners.json").read_text())
    assert str(crate / "Cargo.toml") in owners.values()
    assert not (root / _target_key(python)).exists()
    assert not (root / f"{_target_key(python)}.owners.json").exists()

    pyproject.write_text(plain)  # the variable does what the key does
    env["MATURIN_PEP517_USE_BASE_PYTHON"] = "1"
    assert hook()["chosen"] == os.path.realpath(base)
