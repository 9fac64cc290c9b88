"""Interrupted and concurrent runs leave nothing half-written.

Real ``maturin-nox`` processes are killed (SIGKILL) or interrupted (SIGINT) at
named points of a build, an sdist and a develop install (``MATURIN_NOX_FAULT``,
see ``maturin_nox/faults.py``), and run two at a time on one project, output
folder or environment. Afterwards the output folder holds only complete wheels
whose RECORD an independent reader verifies, and the environment holds either
the install from before or the new one, complete.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest
from conftest import CRATES, TARGET, pyenv_python

from maturin_nox.venv import create

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PYTHONS = ("3.9", "3.12")


def crate_copy(tmp_path: Path, name: str = "pyo3-pure") -> Path:
    dest = tmp_path / name
    shutil.copytree(CRATES / name, dest, ignore=shutil.ignore_patterns("target", "*.so"))
    return dest


def environ(fault: Optional[str] = None, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MATURIN_NOX_FAULT", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(REPO)
    if fault:
        env["MATURIN_NOX_FAULT"] = fault
    env.update(extra)
    return env


def maturin_nox(args: Sequence[str], cwd: Path, env: Dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "maturin_nox", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def build_args(out: Path, pythons: Sequence[str] = PYTHONS) -> List[str]:
    args = ["build", "-o", str(out), "--target-dir", str(TARGET)]
    for version in pythons:
        args += ["-i", str(pyenv_python(version))]
    return args


def record_ok(files: Dict[str, bytes], dist_info: str) -> bool:
    """RECORD read with the csv module and hashlib alone: every member listed, every hash right."""
    rows = list(csv.reader(io.StringIO(files[f"{dist_info}/RECORD"].decode())))
    listed = set()
    for name, digest, size in (r for r in rows if r):
        listed.add(name)
        if name.endswith("/RECORD"):
            continue
        algo, _, value = digest.partition("=")
        expect = base64.urlsafe_b64encode(hashlib.new(algo, files[name]).digest()).rstrip(b"=")
        if value.encode() != expect or int(size) != len(files[name]):
            return False
    return listed == set(files)


def complete_wheel(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        if zf.testzip() is not None:
            return False
        files = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    dist_info = next(n.split("/")[0] for n in files if n.split("/")[0].endswith(".dist-info"))
    return record_ok(files, dist_info)


def visible(folder: Path) -> List[Path]:
    """What `ls` and `twine upload folder/*` see."""
    return (
        sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []
    )


def hidden(folder: Path) -> List[str]:
    return (
        sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
        if folder.exists()
        else []
    )


@pytest.mark.parametrize("how", ["KILL", "INT"])
@pytest.mark.parametrize("point", ["build:cargo", "build:writing", "build:staged", "build:moving"])
def test_an_interrupted_build_leaves_only_complete_wheels(
    tmp_path: Path, point: str, how: str
) -> None:
    crate = crate_copy(tmp_path)
    out = tmp_path / "dist"
    fault = point if how == "KILL" else f"{point}:INT"
    proc = maturin_nox(build_args(out), crate, environ(fault))
    _, err = proc.communicate(timeout=900)
    if how == "KILL":
        assert proc.returncode == -signal.SIGKILL, err
    else:
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
        assert hidden(out) == [], "Ctrl-C cleans up after itself"
    for path in visible(out):
        assert path.suffix == ".whl" and complete_wheel(path), path
    if point == "build:moving":
        assert len(visible(out)) == 1  # the first wheel was moved in, complete
    else:
        assert visible(out) == []
    # The next run sweeps what a killed one left and builds both wheels.
    again = maturin_nox(build_args(out), crate, environ())
    _, err = again.communicate(timeout=900)
    assert again.returncode == 0, err
    assert hidden(out) == []
    wheels = visible(out)
    assert len(wheels) == 2 and all(complete_wheel(w) for w in wheels)


@pytest.mark.parametrize("how", ["KILL", "INT"])
def test_an_interrupted_sdist_leaves_nothing(tmp_path: Path, how: str) -> None:
    crate = crate_copy(tmp_path)
    out = tmp_path / "dist"
    fault = "sdist:writing" + (":INT" if how == "INT" else "")
    proc = maturin_nox(["sdist", "-o", str(out)], crate, environ(fault))
    proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert visible(out) == []
    again = maturin_nox(["sdist", "-o", str(out)], crate, environ())
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    (sdist,) = visible(out)
    assert hidden(out) == []
    with tarfile.open(sdist) as tar:
        assert any(m.name.endswith("/PKG-INFO") for m in tar.getmembers())


def installed_record_ok(site: Path, dist: str) -> bool:
    """The installed distribution's RECORD matches the files on disk (csv + hashlib only)."""
    (dist_info,) = [p for p in site.glob("*.dist-info") if p.name.startswith(dist + "-")]
    for name, digest, _size in (
        r for r in csv.reader(io.StringIO((dist_info / "RECORD").read_text())) if r
    ):
        path = (site / name).resolve()
        if not digest:
            continue
        if not path.is_file():
            return False
        algo, _, value = digest.partition("=")
        expect = base64.urlsafe_b64encode(hashlib.new(algo, path.read_bytes()).digest()).rstrip(
            b"="
        )
        if value.encode() != expect:
            return False
    return True


def site_packages(env: Path) -> Path:
    (site,) = env.glob("lib/python*/site-packages")
    return site


def version_of(python: Path, tmp_path: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('pyo3-pure'))"
    proc = subprocess.run([str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize("point", ["install:writing", "install:committing"])
def test_an_interrupted_develop_install_leaves_the_old_or_the_new_install(
    tmp_path: Path, point: str
) -> None:
    crate = crate_copy(tmp_path)
    venv = create(str(pyenv_python("3.12")), tmp_path / "venv", backend="virtualenv")
    env = environ(VIRTUAL_ENV=str(venv.path))
    args = ["develop", "--target-dir", str(TARGET)]
    first = maturin_nox(args, crate, env)
    assert first.communicate(timeout=900) and first.returncode == 0
    site = site_packages(venv.path)
    assert installed_record_ok(site, "pyo3_pure") and version_of(venv.python, tmp_path) == "2.1.2"
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('version = "2.1.2"', 'version = "2.1.3"', 1))
    killed = maturin_nox(args, crate, {**env, "MATURIN_NOX_FAULT": point})
    killed.communicate(timeout=900)
    assert killed.returncode == -signal.SIGKILL
    if point == "install:writing":  # nothing of the new install reached its place
        assert installed_record_ok(site, "pyo3_pure")
        assert version_of(venv.python, tmp_path) == "2.1.2"
    # the next run finishes (or undoes) what the killed one left, then installs
    again = maturin_nox(args, crate, env)
    _, err = again.communicate(timeout=900)
    assert again.returncode == 0, err
    assert installed_record_ok(site, "pyo3_pure") and version_of(venv.python, tmp_path) == "2.1.3"
    assert [p.name for p in site.glob("pyo3_pure-*.dist-info")] == ["pyo3_pure-2.1.3.dist-info"]
    assert not list(site.glob(".maturin-nox-install-*"))


def test_two_builds_at_once_into_one_folder_both_succeed(tmp_path: Path) -> None:
    crate = crate_copy(tmp_path)
    out = tmp_path / "dist"
    runs = [
        maturin_nox(build_args(out), crate, environ()),
        maturin_nox(build_args(out), crate, environ()),
        maturin_nox(build_args(out, ["3.12"]), crate, environ()),
        maturin_nox(build_args(out, ["3.9"]), crate, environ()),
    ]
    for run in runs:
        _, err = run.communicate(timeout=900)
        assert run.returncode == 0, err
    wheels = visible(out)
    assert len(wheels) == 2 and all(complete_wheel(w) for w in wheels)
    assert hidden(out) == []


def test_two_develops_into_one_environment_at_once(tmp_path: Path) -> None:
    crate = crate_copy(tmp_path)
    venv = create(str(pyenv_python("3.12")), tmp_path / "venv", backend="virtualenv")
    env = environ(VIRTUAL_ENV=str(venv.path))
    args = ["develop", "--target-dir", str(TARGET)]
    runs = [maturin_nox(args, crate, env) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=900)
        assert run.returncode == 0, err
    site = site_packages(venv.path)
    assert installed_record_ok(site, "pyo3_pure")
    assert len(list(site.glob("pyo3_pure-*.dist-info"))) == 1
    assert version_of(venv.python, tmp_path) == "2.1.2"


def test_a_build_killed_while_seeding_leaves_a_folder_the_next_one_sweeps(
    tmp_path: Path,
) -> None:
    """Killed half-way through copying the first interpreter's target folder for the second
    (a cold matrix starts the others while the first builds): the half copy is in a staging
    folder, never in the second interpreter's place, and the next build sweeps it."""
    crate = crate_copy(tmp_path)
    out = tmp_path / "dist"
    target = tmp_path / "target"  # cold, so the second interpreter is seeded
    args = build_args(out)
    args[args.index("--target-dir") + 1] = str(target)
    proc = maturin_nox(args, crate, environ("build:seeding", MATURIN_NOX_EARLY_SEED="1"))
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == -signal.SIGKILL, err
    root = target / "maturin-nox"
    left = [p for p in root.iterdir() if p.name.startswith(".maturin-nox-staging-")]
    assert left, sorted(p.name for p in root.iterdir())
    configs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(configs) == 1, configs  # only the first one: the second was never put in place
    again = maturin_nox(args, crate, environ())
    _, err = again.communicate(timeout=900)
    assert again.returncode == 0, err
    assert not [p for p in root.iterdir() if p.name.startswith(".maturin-nox-staging-")]
    wheels = visible(out)
    assert len(wheels) == 2 and all(complete_wheel(w) for w in wheels)
