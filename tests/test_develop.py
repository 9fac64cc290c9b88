"""``develop``: real cargo builds installed into fresh virtual environments.

Pure Rust projects install as normal wheels, mixed ones editable (a ``.pth`` to
the sources, the extension in the source tree); re-running replaces the install
cleanly or, when nothing changed, writes nothing. The installer itself is also
tested on a synthetic payload, without cargo.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import CRATES, TARGET, pyenv_python, run_check

from maturin_nox.dev_install import NO_ENV, _unsatisfied, _wanted, develop
from maturin_nox.errors import VenvError
from maturin_nox.install import Scheme, install_payload
from maturin_nox.payload import WheelPayload
from maturin_nox.venv import create

PYTHON = "3.12"  # shared with the build tests, so the dev-profile cargo cache is warm


def copy_crate(name: str, dest: Path) -> Path:
    """A private copy of a test crate (without build output) that a test may edit."""
    target = dest / name
    shutil.copytree(CRATES / name, target, ignore=shutil.ignore_patterns("target", "*.so"))
    return target


def site_packages(env: Path) -> Path:
    """The purelib folder of a POSIX virtualenv."""
    return next((env / "lib").glob("python*/site-packages"))


def record_paths(dist_info: Path) -> List[str]:
    """The paths RECORD lists."""
    with open(dist_info / "RECORD", newline="") as fh:
        return [row[0] for row in csv.reader(fh) if row]


def run_python(python: Path, code: str, cwd: Path) -> str:
    """Run code with the env's python from a neutral folder; return stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture()
def venv(tmp_path: Path) -> Path:
    """A fresh virtualenv (with pip) for 3.12; returns its folder."""
    return create(str(pyenv_python(PYTHON)), tmp_path / "venv", backend="virtualenv").path


@pytest.mark.slow
def test_pure_rust_project_installs_as_a_normal_wheel_and_a_rerun_is_a_no_op(
    venv: Path, tmp_path: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    result = develop(manifest_path=crate / "Cargo.toml", env_path=venv, target_dir=TARGET)
    site = site_packages(venv)
    assert (result.installed, result.editable, result.changed) == (True, False, True)
    assert result.extension is None
    # no .pth serves sources: the only one starts the rebuild-on-import finder
    assert [p.name for p in site.glob("*.pth")] == ["_maturin_nox_rebuild_pyo3_pure.pth"]
    assert (site / "pyo3_pure" / "__init__.py").is_file()
    assert list((site / "pyo3_pure").glob("pyo3_pure.cpython-312*.so"))
    assert not list(crate.rglob("*.so")), "nothing is copied into a pure project's tree"
    direct_url = json.loads((site / "pyo3_pure-2.1.2.dist-info" / "direct_url.json").read_text())
    assert direct_url == {"url": crate.resolve().as_uri(), "dir_info": {"editable": True}}
    run_check(venv / "bin" / "python", "pyo3-pure", tmp_path)

    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    again = develop(manifest_path=crate / "Cargo.toml", env_path=venv, target_dir=TARGET)
    assert again.changed is False
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_rerun_replaces_the_previous_install_without_stale_files(
    venv: Path, tmp_path: Path
) -> None:
    crate = copy_crate("pyo3-pure", tmp_path)
    develop(manifest_path=crate / "Cargo.toml", env_path=venv, target_dir=TARGET)
    site = site_packages(venv)
    assert (site / "pyo3_pure" / "__init__.pyi").is_file()

    # The next build has no stub (so no .pyi, no py.typed) and a new version.
    (crate / "pyo3_pure.pyi").unlink()
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('version = "2.1.2"', 'version = "2.1.3"'))
    result = develop(manifest_path=manifest, env_path=venv, target_dir=TARGET)

    assert result.changed and result.version == "2.1.3"
    assert [p.name for p in site.glob("pyo3_pure-*.dist-info")] == ["pyo3_pure-2.1.3.dist-info"]
    assert not (site / "pyo3_pure" / "__init__.pyi").exists()
    assert not (site / "pyo3_pure" / "py.typed").exists()
    listed = record_paths(site / "pyo3_pure-2.1.3.dist-info")
    assert all((site / p).exists() for p in listed)
    on_disk = {
        p.relative_to(site).as_posix()
        for p in (site / "pyo3_pure").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert on_disk == {p for p in listed if p.startswith("pyo3_pure/")}
    out = run_python(
        venv / "bin" / "python", "import pyo3_pure; print(pyo3_pure.add(2, 2))", tmp_path
    )
    assert out == "4"


@pytest.mark.slow
def test_mixed_project_installs_editable_with_a_pth_and_the_extension_in_the_tree(
    venv: Path, tmp_path: Path
) -> None:
    crate = copy_crate("pyo3-mixed", tmp_path)
    result = develop(manifest_path=crate / "Cargo.toml", env_path=venv, target_dir=TARGET)
    site = site_packages(venv)
    assert result.editable and result.changed
    assert (site / "pyo3_mixed.pth").read_text() == str((crate / "python").resolve())
    assert (
        result.extension is not None and result.extension.parent == crate / "python" / "pyo3_mixed"
    )
    assert result.extension.name.startswith("_native.cpython-312")
    assert not (site / "pyo3_mixed").exists(), "sources stay in the tree, not copied"
    dist_info = site / "pyo3_mixed-0.4.0.dist-info"
    assert json.loads((dist_info / "direct_url.json").read_text())["dir_info"] == {"editable": True}
    assert "pyo3_mixed.pth" in record_paths(dist_info)

    python = venv / "bin" / "python"
    code = "import pyo3_mixed; print(pyo3_mixed.get_42(), pyo3_mixed.__file__)"
    answer, where = run_python(python, code, tmp_path).split()
    assert answer == "42" and Path(where).parent == crate / "python" / "pyo3_mixed"
    greet = subprocess.run([str(venv / "bin" / "pyo3-mixed-greet")], capture_output=True, text=True)
    assert greet.stdout.strip() == "Hello, pyo3-mixed! 42"
    # pip sees it as an editable install of the project
    show = subprocess.run(
        [str(python), "-m", "pip", "show", "pyo3-mixed"], capture_output=True, text=True
    )
    assert f"Editable project location: {crate.resolve()}" in show.stdout


@pytest.mark.slow
def test_skip_install_only_builds_the_extension_in_place(venv: Path, tmp_path: Path) -> None:
    crate = copy_crate("pyo3-mixed", tmp_path)
    result = develop(
        manifest_path=crate / "Cargo.toml", env_path=venv, target_dir=TARGET, skip_install=True
    )
    assert result.installed is False
    assert result.extension is not None and result.extension.is_file()
    assert not list(site_packages(venv).glob("pyo3_mixed*"))


@pytest.mark.slow
def test_uv_environment_installs_dependencies_and_extras_with_uv(tmp_path: Path) -> None:
    env = create(str(pyenv_python(PYTHON)), tmp_path / "uv-venv", backend="uv")
    site = site_packages(env.path)
    assert not (site / "pip").exists(), "uv venvs have no pip: uv must do the installing"
    crate = copy_crate("pyo3-mixed", tmp_path)
    result = develop(
        manifest_path=crate / "Cargo.toml",
        env_path=env.path,
        target_dir=TARGET,
        extras=["test"],
        uv=True,
    )
    assert result.dependencies == ("pytest",)
    assert (site / "pytest").is_dir() or (site / "_pytest").is_dir()
    # Everything is satisfied now: no installer runs, nothing is rewritten.
    again = develop(
        manifest_path=crate / "Cargo.toml", env_path=env.path, target_dir=TARGET, extras=["test"]
    )
    assert again.dependencies == () and again.changed is False


def test_no_environment_is_one_sentence_from_the_api_and_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    crate = copy_crate("pyo3-pure", tmp_path)
    with pytest.raises(VenvError) as info:
        develop(cwd=crate)
    assert str(info.value) == NO_ENV

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    proc = subprocess.run(
        [sys.executable, "-m", "maturin_nox", "develop"],
        cwd=crate,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1
    assert NO_ENV in proc.stderr and "Traceback" not in proc.stderr


def test_cli_refuses_interpreter_flags(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "maturin_nox", "develop", "-i", "3.12"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "-i/--interpreter" in proc.stderr


# --- the installer on a synthetic payload (no cargo) ------------------------------------


def fake_scheme(root: Path) -> Scheme:
    """A venv-shaped tree under ``root``."""
    site = root / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (root / "bin").mkdir()
    return Scheme(
        site,
        root / "bin",
        root,
        root / "include" / "site" / "python3.12" / "demo",
        root / "bin" / "python",
    )


def payload(files: Dict[str, bytes], version: str = "1.0") -> WheelPayload:
    """A WheelPayload for distribution ``demo``; ``DIST/x`` names a .dist-info file."""
    meta = f"Metadata-Version: 2.4\nName: demo\nVersion: {version}\n".encode()
    dist_info = {"METADATA": meta, **{k[5:]: v for k, v in files.items() if k.startswith("DIST/")}}
    data = f"demo-{version}.data"
    return WheelPayload(
        "demo",
        version,
        ("py3-none-any",),
        {k.replace("DATA", data): v for k, v in files.items() if not k.startswith("DIST/")},
        dist_info,
        frozenset(k.replace("DATA", data) for k in files if "/scripts/" in k),
    )


def test_installer_maps_every_scheme_and_writes_a_verifiable_record(tmp_path: Path) -> None:
    scheme = fake_scheme(tmp_path / "env")
    entry_points = b"[console_scripts]\ndemo-cli = demo.cli:main\n"
    files = {
        "demo/__init__.py": b"x = 1\n",
        "DATA/scripts/tool": b"#!python\nprint('tool')\n",
        "DATA/headers/demo.h": b"int demo;\n",
        "DATA/data/share/demo.txt": b"shared\n",
        "DIST/entry_points.txt": entry_points,
    }
    changed, dist_info = install_payload(payload(files), scheme, direct_url='{"url": "file:///x"}')
    assert changed and dist_info == scheme.purelib / "demo-1.0.dist-info"
    env = tmp_path / "env"
    tool = (env / "bin" / "tool").read_text()
    assert tool.startswith(f"#!{scheme.python}\n") and os.access(env / "bin" / "tool", os.X_OK)
    assert "from demo.cli import main" in (env / "bin" / "demo-cli").read_text()
    assert (scheme.headers / "demo.h").read_text() == "int demo;\n"
    assert (env / "share" / "demo.txt").read_text() == "shared\n"
    assert (dist_info / "INSTALLER").read_text() == "maturin-nox\n"
    assert (dist_info / "direct_url.json").read_text() == '{"url": "file:///x"}'

    from maturin_nox.wheel import record_hash

    with open(dist_info / "RECORD", newline="") as fh:
        rows = [row for row in csv.reader(fh) if row]
    for path, digest, size in rows:
        if path.endswith("RECORD"):
            continue
        data = (scheme.purelib / path).read_bytes()
        assert digest == record_hash(data) and int(size) == len(data)
    assert "../../../bin/tool" in [row[0] for row in rows]

    # The same payload again writes nothing; a new version replaces every old file.
    same = install_payload(payload(files), scheme, direct_url='{"url": "file:///x"}')
    assert same == (False, dist_info)
    changed, _ = install_payload(payload({"demo/__init__.py": b"x = 2\n"}, "2.0"), scheme)
    assert changed
    assert not (env / "bin" / "tool").exists() and not (env / "bin" / "demo-cli").exists()
    assert not (env / "share").exists() and not (scheme.purelib / "demo-1.0.dist-info").exists()
    assert (scheme.purelib / "demo" / "__init__.py").read_text() == "x = 2\n"


def test_dependency_selection_follows_markers_and_extras(tmp_path: Path) -> None:
    from maturin_nox.interpreters import probe
    from maturin_nox.project import load_project

    project = load_project(CRATES / "pyo3-mixed" / "Cargo.toml")
    interp = probe(pyenv_python(PYTHON))
    # importlib-metadata only applies below 3.8; pytest only with the test extra.
    assert _wanted(project, interp, []) == []
    assert _wanted(project, interp, ["test"]) == ["pytest"]

    site = tmp_path / "site"
    (site / "pytest-8.3.0.dist-info").mkdir(parents=True)
    assert _unsatisfied(["pytest"], site) == []
    assert _unsatisfied(["pytest>=9"], site) == ["pytest>=9"]
    assert _unsatisfied(["requests"], site) == ["requests"]


@pytest.mark.slow
def test_cffi_mixed_project_is_editable_with_the_generated_module_beside_the_sources(
    venv: Path, tmp_path: Path
) -> None:
    crate = copy_crate("cffi-mixed", tmp_path)
    result = develop(manifest_path=crate / "Cargo.toml", env_path=venv, target_dir=TARGET)
    site = site_packages(venv)
    assert result.editable and (site / "cffi_mixed.pth").is_file()
    generated = crate / "cffi_mixed" / "cffi_mixed"
    assert (generated / "__init__.py").is_file() and list(generated.glob("*.so"))
    assert not (site / "cffi_mixed").exists()
    code = "import cffi_mixed.cffi_mixed as m; print(m.__file__)"
    assert Path(run_python(venv / "bin" / "python", code, tmp_path)).parent == generated


def test_package_level_develop_stays_callable_after_the_module_is_imported(tmp_path: Path) -> None:
    import maturin_nox
    import maturin_nox.dev_install  # the module has its own name, so nothing is rebound

    with pytest.raises(VenvError, match=r"no pyvenv\.cfg"):
        maturin_nox.develop(env_path=tmp_path)
