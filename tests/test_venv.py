"""The virtualenv manager: real interpreters, real uv/virtualenv/venv, real installs offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from maturin_nox import venv
from maturin_nox.errors import VenvError
from maturin_nox.venv import VenvManager, VirtualEnv, create, find_active_env, open_env
from maturin_nox.wheel import WheelWriter


def _found(version: str) -> str:
    """The executable of the CPython that ``-i version`` would pick, or "" when there is none."""
    from maturin_nox.errors import InterpreterError
    from maturin_nox.interpreters import resolve

    try:
        return str(resolve(version).executable)
    except InterpreterError:
        return ""


PY312 = _found("3.12")

needs_pythons = pytest.mark.skipif(not PY312, reason="needs CPython 3.12 (on PATH or in pyenv)")
needs_uv = pytest.mark.skipif(venv.find_uv() is None, reason="needs uv")
pytestmark = [needs_pythons, needs_uv]

GREET = """
def main():
    try:
        import shout
    except ImportError:
        print("hello")
    else:
        print(shout.loud("hello"))
"""


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with greet-1.0 (extra "loud" needs shout) and shout-1.0, pure-Python wheels."""
    out = tmp_path_factory.mktemp("wheelhouse")
    shout = WheelWriter(out, "shout", "1.0", ["py3-none-any"], root_is_purelib=True)
    shout.add_bytes("shout.py", "def loud(text):\n    return text.upper() + '!'\n")
    shout.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: shout\nVersion: 1.0\n")
    shout.finish()
    greet = WheelWriter(out, "greet", "1.0", ["py3-none-any"], root_is_purelib=True)
    greet.add_bytes("greet.py", GREET)
    greet.add_dist_info(
        "METADATA",
        "Metadata-Version: 2.1\nName: greet\nVersion: 1.0\nProvides-Extra: loud\n"
        'Requires-Dist: shout; extra == "loud"\n',
    )
    greet.add_dist_info("entry_points.txt", "[console_scripts]\ngreet = greet:main\n")
    greet.finish()
    return out


@pytest.fixture(scope="session")
def manager(tmp_path_factory: pytest.TempPathFactory) -> VenvManager:
    """One cache for the tests that only need some environment."""
    return VenvManager(tmp_path_factory.mktemp("venv-cache"))


@pytest.fixture()
def uv_env(manager: VenvManager) -> Iterator[VirtualEnv]:
    """A fresh, cheap uv environment for 3.12."""
    with manager.ephemeral(PY312, backend="uv") as env:
        yield env


def _greet(env: VirtualEnv) -> str:
    """What the installed console script prints."""
    return env.run(["greet"], capture=True).stdout.strip()


@pytest.mark.parametrize("backend", ["uv", "virtualenv"])
@pytest.mark.parametrize(("python", "version"), [("3.9", "3.9.18"), ("3.12", "3.12.1")])
def test_creates_env_and_installs_wheel_with_extras_offline(
    tmp_path: Path, wheelhouse: Path, backend: str, python: str, version: str
) -> None:
    env = create(python, tmp_path / "env", backend=backend)
    assert env.backend == backend
    assert env.python == tmp_path / "env" / "bin" / "python"
    assert open_env(env.path).backend == backend
    out = env.run(
        ["python", "-c", "import sys, platform; print(sys.prefix, platform.python_version())"],
        capture=True,
    )
    assert out.stdout.split() == [str(env.path), version]
    assert env.installer == ("uv" if backend == "uv" else "pip")
    assert env.has_pip is (backend == "virtualenv")  # pip was seeded by virtualenv

    env.install(
        wheels=[wheelhouse / "greet-1.0-py3-none-any.whl"],
        extras=["loud"],
        find_links=[wheelhouse],
        no_index=True,
    )
    assert _greet(env) == "HELLO!"  # the extra pulled shout in
    assert (env.site_packages / "shout.py").is_file()


def test_wheel_without_extras_leaves_optional_dependency_out(
    uv_env: VirtualEnv, wheelhouse: Path
) -> None:
    uv_env.install(wheels=[wheelhouse / "greet-1.0-py3-none-any.whl"], no_index=True)
    assert _greet(uv_env) == "hello"
    uv_env.install("shout", find_links=[wheelhouse], no_index=True)
    assert _greet(uv_env) == "HELLO!"
    uv_env.uninstall("shout")
    assert _greet(uv_env) == "hello"


def test_requirements_file_resolved_from_find_links(
    uv_env: VirtualEnv, wheelhouse: Path, tmp_path: Path
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("greet[loud]==1.0\n")
    uv_env.install(requirements_files=[reqs], find_links=[wheelhouse], no_index=True)
    assert _greet(uv_env) == "HELLO!"


def test_pip_reinstall_and_no_deps(tmp_path: Path, wheelhouse: Path) -> None:
    env = create(PY312, tmp_path / "env", backend="virtualenv")
    wheel = wheelhouse / "greet-1.0-py3-none-any.whl"
    env.install(wheels=[wheel], extras=["loud"], no_deps=True, no_index=True)
    assert not (env.site_packages / "shout.py").exists()
    (env.site_packages / "greet.py").write_text("def main():\n    print('edited')\n")
    env.install(wheels=[wheel], reinstall=True, no_deps=True, no_index=True)
    assert _greet(env) == "hello"


def test_failed_install_names_what_and_where(uv_env: VirtualEnv, wheelhouse: Path) -> None:
    with pytest.raises(VenvError) as info:
        uv_env.install("no-such-package", find_links=[wheelhouse], no_index=True)
    assert str(info.value) == (
        f"uv pip install of no-such-package into {uv_env.path} failed (exit 1); "
        "see the output above."
    )


def test_run_sets_path_and_reports_failures(uv_env: VirtualEnv, tmp_path: Path) -> None:
    out = uv_env.run(
        [
            "python",
            "-c",
            "import os, sys; print(sys.executable); print(os.getcwd()); print(os.environ['X'])",
        ],
        cwd=tmp_path,
        env={"X": "42"},
        capture=True,
    )
    assert out.stdout.splitlines() == [str(uv_env.python), str(tmp_path), "42"]
    failed = uv_env.run(["python", "-c", "raise SystemExit(3)"], check=False)
    assert failed.returncode == 3
    with pytest.raises(VenvError, match=r"failed in .* \(exit 4\); boom\.$"):
        uv_env.run(
            ["python", "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(4)"], capture=True
        )
    with pytest.raises(VenvError, match=r"exit 1\); see the output above\.$"):
        uv_env.run(["python", "-c", "raise ValueError('boom')"])
    with pytest.raises(VenvError, match=r"Cannot run no-such-tool-xyz in .*"):
        uv_env.run(["no-such-tool-xyz"])


def test_create_reuses_env_at_same_path_for_same_interpreter(tmp_path: Path) -> None:
    first = create(PY312, tmp_path / "env", backend="uv")
    (first.path / "sentinel").touch()
    again = create("3.12", tmp_path / "env", backend="uv")
    assert again == first
    assert (again.path / "sentinel").exists()
    cleared = create("3.12", tmp_path / "env", backend="uv", clear=True)
    assert cleared.path == first.path and not (cleared.path / "sentinel").exists()
    with pytest.raises(VenvError, match=r"for another interpreter than 3.9; pass clear=True"):
        create("3.9", tmp_path / "env", backend="uv")


def test_accepts_interpreter_objects(tmp_path: Path) -> None:
    from maturin_nox import interpreters

    env = create(interpreters.resolve("3.9"), tmp_path / "a", backend="uv")
    assert (
        env.run(
            ["python", "-c", "import sys; print(sys.version_info[:2])"], capture=True
        ).stdout.strip()
        == "(3, 9)"
    )
    env = create(SimpleNamespace(executable=Path(PY312)), tmp_path / "b", backend="uv")
    assert "3.12.1" in (env.path / "pyvenv.cfg").read_text()


def test_manager_reuses_env_without_recreating(tmp_path: Path, wheelhouse: Path) -> None:
    manager = VenvManager(tmp_path / "cache")
    env = manager.get("3.12", ["greet[loud]"], find_links=[wheelhouse], no_index=True)
    assert _greet(env) == "HELLO!"
    (env.path / "sentinel").touch()
    cfg = (env.path / "pyvenv.cfg").stat()
    again = manager.get(PY312, ["greet[loud]"], find_links=[wheelhouse], no_index=True)
    assert again == env
    assert (again.path / "sentinel").exists()
    assert (again.path / "pyvenv.cfg").stat().st_mtime_ns == cfg.st_mtime_ns
    assert (
        manager.path_for("3.12", ["greet[loud]"], find_links=[wheelhouse], no_index=True)
        == env.path
    )


def test_manager_key_change_creates_new_env(tmp_path: Path, wheelhouse: Path) -> None:
    manager = VenvManager(tmp_path / "cache")
    plain = manager.get("3.12", backend="uv")
    other_reqs = manager.get(
        "3.12", ["shout"], backend="uv", find_links=[wheelhouse], no_index=True
    )
    other_python = manager.get("3.9", backend="uv")
    other_backend = manager.get("3.12", backend="virtualenv")
    paths = {plain.path, other_reqs.path, other_python.path, other_backend.path}
    assert len(paths) == 4 and all(p.parent == manager.root for p in paths)
    assert plain.run(["python", "-c", "import shout"], check=False).returncode != 0
    other_reqs.run(["python", "-c", "import shout"])
    assert other_backend.backend == "virtualenv" and other_backend.has_pip
    # requirement order does not matter
    assert manager.path_for("3.12", ["a", "b"]) == manager.path_for("3.12", ["b", "a"])


def test_manager_recreates_broken_or_unfinished_env(tmp_path: Path) -> None:
    manager = VenvManager(tmp_path / "cache")
    env = manager.get("3.12", backend="uv")
    (env.path / "sentinel").touch()
    # The interpreter the env points at is gone (e.g. a pyenv version was uninstalled).
    env.python.unlink()
    env.python.symlink_to(tmp_path / "deleted-python")
    with pytest.raises(
        VenvError, match=r"is broken: its interpreter .*deleted-python does not exist"
    ):
        open_env(env.path)
    fixed = manager.get("3.12", backend="uv")
    assert fixed.path == env.path and not (fixed.path / "sentinel").exists()
    fixed.run(["python", "-c", "pass"])
    # An env whose creation was interrupted has no marker: rebuilt too.
    (fixed.path / "sentinel").touch()
    (fixed.path / venv.MARKER).unlink()
    rebuilt = manager.get("3.12", backend="uv")
    assert not (rebuilt.path / "sentinel").exists() and (rebuilt.path / venv.MARKER).is_file()


def test_ephemeral_env_is_deleted_even_on_error(manager: VenvManager) -> None:
    with manager.ephemeral("3.12", backend="uv") as env:
        assert env.python.exists()
        path = env.path
    assert not path.exists() and not path.parent.exists()
    with pytest.raises(RuntimeError):
        with manager.ephemeral("3.12", backend="uv") as env:
            path = env.path
            raise RuntimeError
    assert not path.exists()


def test_clean_removes_by_age(tmp_path: Path) -> None:
    manager = VenvManager(tmp_path / "cache")
    old = manager.get("3.12", backend="uv")
    new = manager.get("3.9", backend="uv")
    os.utime(old.path / venv.MARKER, (0, 0))  # last used in 1970
    leftover = manager.root / ".ephemeral" / "env-crashed"
    leftover.mkdir(parents=True)
    os.utime(leftover, (0, 0))
    assert manager.clean(older_than=3600) == 2
    assert not old.path.exists() and not leftover.exists() and new.path.exists()
    assert manager.clean() == 1
    assert not new.path.exists()
    assert sorted(p.name for p in manager.root.iterdir()) == [".ephemeral"]
    assert VenvManager(tmp_path / "nothing").clean() == 0


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATURIN_NOX_CACHE_DIR", str(tmp_path / "c"))
    assert VenvManager().root == tmp_path / "c" / "venvs"
    monkeypatch.delenv("MATURIN_NOX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert venv.default_cache_dir() == tmp_path / "x" / "maturin-nox" / "venvs"


def test_find_active_env_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project = tmp_path / "project"
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    dot_venv = project / ".venv"
    dot_venv.mkdir()
    (dot_venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    active, conda = tmp_path / "active", tmp_path / "conda"
    active.mkdir()
    conda.mkdir()
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert find_active_env(deep) == dot_venv
    assert find_active_env(tmp_path) is None
    monkeypatch.setenv("CONDA_PREFIX", str(conda))
    assert find_active_env(deep) == conda
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    assert find_active_env(deep) == active
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "gone"))  # stale: skipped
    assert find_active_env(deep) == conda
    monkeypatch.chdir(deep)
    monkeypatch.delenv("CONDA_PREFIX")
    assert find_active_env() == dot_venv


def test_open_env_tells_backends_apart(tmp_path: Path) -> None:
    made_by_uv = create(PY312, tmp_path / "uv", backend="uv")
    assert "uv = " in (made_by_uv.path / "pyvenv.cfg").read_text()
    assert open_env(made_by_uv.path).backend == "uv"
    subprocess.run([PY312, "-m", "venv", "--without-pip", str(tmp_path / "std")], check=True)
    std = open_env(tmp_path / "std")
    assert std.backend == "venv"
    assert not std.has_pip and std.installer == "uv"  # no pip: uv installs into it
    conda = tmp_path / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "bin").mkdir()
    (conda / "bin" / "python").symlink_to(sys.executable)
    assert open_env(conda).backend == "conda"
    with pytest.raises(
        VenvError, match=rf"^{tmp_path} is not a virtual environment: it has no pyvenv.cfg\.$"
    ):
        open_env(tmp_path)


def test_backend_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(venv.BACKEND_ENV_VAR, raising=False)
    assert create(PY312, tmp_path / "a").backend == "uv"
    monkeypatch.setenv(venv.BACKEND_ENV_VAR, "virtualenv")
    assert create(PY312, tmp_path / "b").backend == "virtualenv"
    assert create(PY312, tmp_path / "c", backend="uv").backend == "uv"  # argument wins
    monkeypatch.setenv(venv.BACKEND_ENV_VAR, "conda")
    with pytest.raises(VenvError, match=r"'conda' \(from MATURIN_NOX_VENV_BACKEND\); choose uv"):
        create(PY312, tmp_path / "d")
    monkeypatch.delenv(venv.BACKEND_ENV_VAR)
    monkeypatch.setattr(venv, "find_uv", lambda: None)
    assert venv._choose_backend(None) == "virtualenv"
    with pytest.raises(VenvError, match=r"uv backend was asked for .* but uv is not installed"):
        create(PY312, tmp_path / "e", backend="uv")


def test_bad_input_errors(tmp_path: Path) -> None:
    with pytest.raises(VenvError) as info:
        create("3.5", tmp_path / "env")
    assert (
        str(info.value)
        == "Cannot create a virtual environment for 3.5: no such Python interpreter."
    )
    with pytest.raises(VenvError, match=r"for /nowhere/python3: no such Python interpreter\.$"):
        VenvManager(tmp_path).get("/nowhere/python3")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "file.txt").touch()
    with pytest.raises(
        VenvError,
        match=rf"^Cannot create a virtual environment in {busy}: the folder is not empty\.$",
    ):
        create(PY312, busy)
    with pytest.raises(
        VenvError,
        match="Unknown virtual environment backend 'pipenv' \\(from the backend argument\\)",
    ):
        create(PY312, tmp_path / "x", backend="pipenv")
    env = create(PY312, tmp_path / "env", backend="uv")
    with pytest.raises(VenvError, match="No command was given"):
        env.run([])
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("keep me")
    with pytest.raises(VenvError, match=r"at .*file: it is a file or a symlink, not a folder\.$"):
        create(PY312, not_a_folder, clear=True)
    assert not_a_folder.read_text() == "keep me"
    with pytest.raises(VenvError, match=r"^Cannot create the environment cache folder .*file: "):
        VenvManager(not_a_folder).get(PY312)
