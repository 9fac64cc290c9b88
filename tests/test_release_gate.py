"""The release gate, through the README's nox flow: ``nox -s build``, ``nox -s test``,
``nox -s publish``, with a real index on 127.0.0.1 asked what it holds after each case.

A good project uploads (every wheel tested, audited, checked by twine, and byte
for byte what its sdist builds); each bad one is refused before anything is
uploaded, naming the file and the check: a wheel needing a file the sdist does
not carry, a wheel whose build is not reproducible, an abi3 wheel calling a
symbol outside the limited API. ``maturin-nox publish`` runs the same gate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from conftest import CRATES, TARGET
from index_server import run_pypiserver

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOXFILE = 'from maturin_nox import sessions\n\nsessions.register(python=["3.12"])\n'
CREDENTIALS = {"TWINE_USERNAME": "tester", "TWINE_PASSWORD": "not-a-secret"}


def project(tmp_path: Path, crate: str) -> Path:
    dest = tmp_path / crate
    ignore = shutil.ignore_patterns("target", ".nox", "*.so", "__pycache__", ".pytest_cache")
    shutil.copytree(CRATES / crate, dest, ignore=ignore, copy_function=shutil.copy)
    (dest / "noxfile.py").write_text(NOXFILE)
    return dest


def git_init(folder: Path) -> None:
    """Make the project a git checkout (the sdist honours its .gitignore then)."""
    for cmd in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *cmd], cwd=folder, check=True, capture_output=True)


def nox(folder: Path, *args: str, env: Dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "MATURIN_PYPI"))}
    full.update(MATURIN_NOX_TARGET_DIR=str(TARGET), **(env or {}))
    full.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "nox", *args],
        cwd=folder,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=1500,
    )


def flow(folder: Path, url: str) -> subprocess.CompletedProcess:
    """The README's flow: build, test, then publish to the index at ``url``."""
    for session in ("build", "test"):
        proc = nox(folder, "-s", session)
        assert proc.returncode == 0, proc.stdout[-5000:]
    return nox(folder, "-s", "publish", "--", "--repository-url", url, env=CREDENTIALS)


def refused(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    out = proc.stdout
    assert proc.returncode != 0 and "Traceback" not in out, out[-5000:]
    assert "Nothing was uploaded" in out and "Uploaded " not in out, out[-5000:]
    for fragment in fragments:
        assert fragment in out, out[-5000:]
    return out


def test_the_readme_flow_uploads_a_good_project(tmp_path: Path) -> None:
    folder = project(tmp_path, "pyo3-mixed")
    git_init(folder)
    with run_pypiserver(tmp_path / "index") as server:
        proc = flow(folder, server.url)
        assert proc.returncode == 0, proc.stdout[-5000:]
        uploaded = sorted(server.files())
    assert len(uploaded) == 2 and uploaded[1] == "pyo3_mixed-0.4.0.tar.gz", uploaded
    assert uploaded[0].startswith("pyo3_mixed-0.4.0-cp312-cp312-") and uploaded[0].endswith(".whl")
    out = proc.stdout
    # one table, one decision: every row passed
    assert "Reproducible" in out and "Built from sdist" in out
    assert "identical" in out and "passed (1/1)" in out


def test_a_wheel_needing_a_file_the_sdist_misses_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path, "pyo3-mixed")
    generated = folder / "python" / "pyo3_mixed" / "generated.txt"
    generated.write_text("made by a script in the checkout\n")
    (folder / ".gitignore").write_text("/python/pyo3_mixed/generated.txt\n")
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.maturin]",
            '[tool.maturin]\ninclude = [{ path = "python/pyo3_mixed/generated.txt", format = "wheel" }]',
            1,
        )
    )
    git_init(folder)
    with run_pypiserver(tmp_path / "index") as server:
        out = refused(
            flow(folder, server.url),
            "pyo3_mixed/generated.txt (missing from the wheel built from the sdist)",
            "the sdist misses a file the build needs",
        )
        assert server.files() == []
    assert "differs" in out


def test_a_wheel_whose_build_is_not_reproducible_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path, "pyo3-mixed")
    (folder / "build.rs").write_text(
        "fn main() {\n"
        "    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();\n"
        '    println!("cargo:rustc-env=BUILT_AT={}", now.as_nanos());\n'
        "}\n"
    )
    lib = folder / "src" / "lib.rs"
    lib.write_text(
        lib.read_text()
        + "\n/// When this library was built (what makes it differ from build to build).\n"
        + '#[no_mangle]\npub extern "C" fn pyo3_mixed_built_at() -> *const u8 {\n'
        + '    concat!(env!("BUILT_AT"), "\\0").as_ptr()\n}\n'
    )
    git_init(folder)
    with run_pypiserver(tmp_path / "index") as server:
        refused(flow(folder, server.url), "differs from the wheel built from", "(contents)")
        assert server.files() == []


def test_an_abi3_wheel_calling_outside_the_limited_api_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path, "pyo3-ffi-pure")
    manifest = folder / "Cargo.toml"
    manifest.write_text(
        manifest.read_text().replace(
            'features = ["extension-module"]', 'features = ["extension-module", "abi3-py38"]'
        )
    )
    lib = folder / "src" / "lib.rs"
    lib.write_text(
        lib.read_text()
        + '\nextern "C" {\n    fn _PyObject_GetDictPtr(obj: *mut PyObject) -> *mut *mut PyObject;\n}\n'
        + "\n/// Reaches into an object's dict slot: not part of the limited API.\n"
        + '#[no_mangle]\npub unsafe extern "C" fn pyo3_ffi_pure_dict_ptr(obj: *mut PyObject) -> *mut *mut PyObject {\n'
        + "    _PyObject_GetDictPtr(obj)\n}\n"
    )
    git_init(folder)
    with run_pypiserver(tmp_path / "index") as server:
        refused(flow(folder, server.url), "calls _PyObject_GetDictPtr", "not in the limited API")
        assert server.files() == []


def test_maturin_nox_publish_runs_the_same_gate(tmp_path: Path) -> None:
    folder = project(tmp_path, "pyo3-mixed")
    git_init(folder)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(CREDENTIALS, PYTHONPATH=str(REPO))
    with run_pypiserver(tmp_path / "index") as server:
        cmd = [
            sys.executable, "-m", "maturin_nox", "publish", "--debug", "-i", "3.12",
            "--target-dir", str(TARGET), "--repository-url", server.url, "--dry-run",
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=1500
        )
        assert proc.returncode == 0, proc.stderr[-5000:]
        assert "Built from sdist" in proc.stderr and "identical" in proc.stderr
        assert "not required" in proc.stderr  # maturin's publish runs no tests
        assert server.files() == []  # a dry run uploads nothing
