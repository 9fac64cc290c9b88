"""Interpreter discovery and probing, against the real pythons of this machine."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Iterator

import pytest
from packaging.specifiers import SpecifierSet

from maturin_nox import interpreters
from maturin_nox.cli import main
from maturin_nox.errors import InterpreterError
from maturin_nox.interpreters import Interpreter

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))


def pyenv_python(minor: str) -> Path:
    """The python3 of the newest pyenv-installed CPython ``3.X`` (found, never named), or skip."""
    pattern = re.compile(rf"{re.escape(minor)}\.(\d+)")
    found = sorted(
        (int(match.group(1)), folder / "bin" / "python3")
        for folder in (PYENV_ROOT / "versions").glob(f"{minor}.*")
        for match in [pattern.fullmatch(folder.name)]
        if match and (folder / "bin" / "python3").is_file()
    )
    if not found:
        pytest.skip(f"pyenv has no CPython {minor} under {PYENV_ROOT}")
    return found[-1][1]


def full_version(exe: Path) -> str:
    """A pyenv python's full version: the name of its pyenv folder (``3.12.1``)."""
    return exe.parents[1].name


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own empty probe cache, on disk and in memory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MATURIN_NOX_CACHE_DIR", str(cache))
    interpreters.clear_cache()
    yield cache
    interpreters.clear_cache()


def write_script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def make(**changes: Any) -> Interpreter:
    """A hand-made CPython 3.12 interpreter with some fields changed."""
    base = Interpreter(
        executable=Path("/opt/python/bin/python3"),
        implementation="cpython",
        version=(3, 12, 1),
        abiflags="",
        ext_suffix=".cpython-312-x86_64-linux-gnu.so",
        soabi="cpython-312-x86_64-linux-gnu",
        platform="linux-x86_64",
        system="linux",
        machine="x86_64",
        pointer_width=64,
        gil_disabled=False,
        base_prefix="/opt/python",
        prefix="/opt/python",
    )
    return dataclasses.replace(base, **changes)


# --- tags -----------------------------------------------------------------------------


def test_cpython_tags_and_display() -> None:
    interp = make()
    assert (interp.python_tag, interp.abi_tag, interp.version_str) == ("cp312", "cp312", "3.12")
    assert (interp.major, interp.minor) == (3, 12)
    assert interp.display() == "CPython 3.12.1 at /opt/python/bin/python3"


def test_pypy_abi_tag_comes_from_soabi() -> None:
    interp = make(
        implementation="pypy",
        version=(3, 9, 18),
        ext_suffix=".pypy39-pp73-x86_64-linux-gnu.so",
        soabi="pypy39-pp73-x86_64-linux-gnu",
    )
    assert (interp.python_tag, interp.abi_tag) == ("pp39", "pypy39_pp73")
    assert interp.display().startswith("PyPy 3.9.18 at ")


def test_free_threaded_abi_tag_has_t_suffix() -> None:
    interp = make(
        version=(3, 13, 1),
        abiflags="t",
        gil_disabled=True,
        ext_suffix=".cpython-313t-x86_64-linux-gnu.so",
        soabi="cpython-313t-x86_64-linux-gnu",
    )
    assert (interp.python_tag, interp.abi_tag) == ("cp313", "cp313t")
    # Without SOABI (as on some builds), the flags still give the tag.
    assert make(version=(3, 13, 0), gil_disabled=True, soabi=None, ext_suffix=".so").abi_tag == (
        "cp313t"
    )


def test_old_abiflags_graalpy_and_windows_abi_tags() -> None:
    assert make(version=(3, 7, 16), abiflags="m", soabi=None, ext_suffix=".so").abi_tag == "cp37m"
    graal = make(
        implementation="graalpy",
        version=(3, 11, 7),
        soabi="graalpy240-311-native-x86_64-linux",
    )
    assert (graal.python_tag, graal.abi_tag) == ("graalpy311", "graalpy240_311_native")
    assert make(soabi=None, ext_suffix=".cp312-win_amd64.pyd").abi_tag == "cp312"


# --- probing --------------------------------------------------------------------------


def test_probe_of_running_python_matches_its_own_sysconfig() -> None:
    interp = interpreters.probe(sys.executable)
    assert interp.version == tuple(sys.version_info[:3])
    assert interp.implementation == sys.implementation.name
    assert interp.ext_suffix == sysconfig.get_config_var("EXT_SUFFIX")
    assert interp.soabi == sysconfig.get_config_var("SOABI")
    assert interp.platform == sysconfig.get_platform()
    assert interp.system == platform.system().lower()
    assert interp.machine == platform.machine()
    assert interp.prefix == sys.prefix
    assert interp.base_prefix == sys.base_prefix


@pytest.mark.parametrize(("minor", "tag"), [("3.9", "cp39"), ("3.12", "cp312")])
def test_probe_real_pyenv_pythons(minor: str, tag: str) -> None:
    exe = pyenv_python(minor)
    version = full_version(exe)
    interp = interpreters.probe(exe)
    assert interp.executable == exe
    assert ".".join(map(str, interp.version)) == version
    assert (interp.implementation, interp.python_tag, interp.abi_tag) == ("cpython", tag, tag)
    assert interp.ext_suffix == f".cpython-{tag[2:]}-x86_64-linux-gnu.so" or sys.platform != "linux"
    assert interp.pointer_width == 64
    assert not interp.gil_disabled
    assert interp.prefix == str(PYENV_ROOT / "versions" / version)


@pytest.mark.parametrize("minor", ["3.8", "3.12"])
def test_probe_keeps_venv_path_and_prefix(minor: str, tmp_path: Path) -> None:
    base = pyenv_python(minor)
    version = full_version(base)
    venv = tmp_path / "venv"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    interp = interpreters.probe(venv / "bin" / "python")
    # The symlink is kept (installs must go into the venv) and sys.prefix is the venv's,
    # which before 3.11 only holds when site runs.
    assert interp.executable == venv / "bin" / "python"
    assert Path(interp.prefix).resolve() == venv.resolve()
    assert interp.base_prefix == str(PYENV_ROOT / "versions" / version)


def test_second_probe_spawns_no_process(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = pyenv_python("3.12")
    first = interpreters.probe(exe)
    entries = json.loads((fresh_cache / "interpreters.json").read_text())["entries"]
    assert str(exe) in entries

    def no_spawn(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"spawned {args}")

    monkeypatch.setattr(interpreters.subprocess, "run", no_spawn)
    assert interpreters.probe(exe) is first  # memory
    interpreters.clear_cache()
    assert interpreters.probe(exe) == first  # disk


def test_changed_file_stamp_invalidates_the_cache(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = pyenv_python("3.12")
    interpreters.probe(exe)
    cache_file = fresh_cache / "interpreters.json"
    data = json.loads(cache_file.read_text())
    data["entries"][str(exe)]["stamp"][1] += 1  # as if the interpreter had been replaced
    cache_file.write_text(json.dumps(data))
    interpreters.clear_cache()
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(
        interpreters.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k)
    )
    assert interpreters.probe(exe).version_str == "3.12"
    assert ".".join(map(str, interpreters.probe(exe).version)) == full_version(exe)
    assert len(calls) == 1


def test_corrupt_cache_is_tolerated_and_rewritten(fresh_cache: Path) -> None:
    fresh_cache.mkdir()
    (fresh_cache / "interpreters.json").write_text("{ not json")
    interp = interpreters.probe(sys.executable)
    data = json.loads((fresh_cache / "interpreters.json").read_text())
    assert data["entries"][os.path.abspath(sys.executable)]["interpreter"] == interp.to_json()
    assert not list(fresh_cache.glob(".interpreters.*"))  # no temp file left behind


def test_nonexistent_path_is_an_interpreter_error(tmp_path: Path) -> None:
    with pytest.raises(InterpreterError, match=r"python9 does not exist\."):
        interpreters.probe(tmp_path / "python9")
    with pytest.raises(InterpreterError, match="does not exist"):
        interpreters.resolve(str(tmp_path / "python9"))


def test_broken_pyenv_shim_is_an_interpreter_error(tmp_path: Path) -> None:
    shim = write_script(
        tmp_path / "python3.7", "echo 'pyenv: python3.7: command not found' >&2; exit 127"
    )
    with pytest.raises(InterpreterError, match=r"exit code 127: pyenv: python3\.7: command not"):
        interpreters.resolve(str(shim))


def test_non_python_executable_is_an_interpreter_error(tmp_path: Path) -> None:
    liar = write_script(tmp_path / "python3", "echo hello")
    with pytest.raises(InterpreterError, match="did not answer the probe like a Python does"):
        interpreters.probe(liar)


def test_wrapper_script_reports_the_real_interpreter(tmp_path: Path) -> None:
    exe = pyenv_python("3.9")
    wrapper = write_script(tmp_path / "python3.9", f'exec {exe} "$@"')
    assert interpreters.probe(wrapper).executable == exe


# --- resolve / find_all / default -----------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "version"),
    [("3.12", (3, 12)), ("python3.9", (3, 9)), ("cp312", (3, 12)), ("3.9.<found>", (3, 9))],
)
def test_resolve_by_name(spec: str, version: tuple[int, ...]) -> None:
    found = full_version(pyenv_python("3.9"))
    pyenv_python("3.12")
    if spec == "3.9.<found>":  # a full version, as pyenv has it
        spec, version = found, tuple(int(x) for x in found.split("."))
    interp = interpreters.resolve(spec)
    assert interp.version[: len(version)] == version
    assert interp.implementation == "cpython"


def test_resolve_relative_path(monkeypatch: pytest.MonkeyPatch) -> None:
    exe = pyenv_python("3.12")
    monkeypatch.chdir(exe.parent)
    assert interpreters.resolve("./python3").executable == exe


def test_resolve_prefers_real_install_over_broken_shim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = pyenv_python("3.12")
    shims = tmp_path / "shims"
    shims.mkdir()
    write_script(shims / "python3.12", "echo 'pyenv: python3.12: command not found' >&2; exit 127")
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYENV_ROOT", str(PYENV_ROOT))
    interp = interpreters.resolve("3.12")
    assert interp.version[:2] == (3, 12)
    assert interp.executable.parent == exe.parent


def test_resolve_unknown_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(PYENV_ROOT))
    expected = (
        f"No Python interpreter matches '3.5': looked on PATH and in pyenv "
        f"({PYENV_ROOT / 'versions'})."
    )
    with pytest.raises(InterpreterError) as info:
        interpreters.resolve("3.5")
    assert str(info.value) == expected


def test_find_all_lists_distinct_python3_interpreters_sorted() -> None:
    pyenv_python("3.9")
    pyenv_python("3.12")
    found = interpreters.find_all()
    versions = [i.version[:2] for i in found]
    assert (3, 9) in versions and (3, 12) in versions
    assert all(v >= (3, 7) for v in versions)  # pyenv's 2.7 and 3.6 are skipped
    reals = [os.path.realpath(i.executable) for i in found]
    assert len(reals) == len(set(reals))
    keys = [(i.implementation, i.version) for i in found]
    assert keys == sorted(keys)
    assert not any("shims" in str(i.executable) for i in found)


def test_default_is_the_active_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    assert interpreters.default().executable == venv / "bin" / "python"
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "gone"))
    with pytest.raises(InterpreterError, match=r"VIRTUAL_ENV is .*gone"):
        interpreters.default()


def test_default_without_venv_is_python3_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    interp = interpreters.default()
    assert interp.major == 3
    assert os.path.isfile(interp.executable)


# --- select ---------------------------------------------------------------------------


def test_select_find_filters_by_requires_python(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = re.escape(full_version(pyenv_python("3.9")))
    monkeypatch.setattr(logging.getLogger("maturin_nox"), "propagate", True)
    caplog.set_level(logging.INFO, logger="maturin_nox")
    chosen = interpreters.select(find=True, requires_python=SpecifierSet(">=3.10"))
    assert chosen and all(i.version >= (3, 10) for i in chosen)
    assert re.search(rf"Skipping CPython {version} at .*requires-python '>=3.10'", caplog.text)


def test_select_explicit_interpreter_outside_requires_python_is_an_error() -> None:
    pyenv_python("3.9")
    found = interpreters.resolve("3.9")
    with pytest.raises(InterpreterError) as info:
        interpreters.select(
            ["3.9"],
            requires_python=SpecifierSet(">=3.10"),
            requires_python_source="x/pyproject.toml",
        )
    assert str(info.value) == (
        f"Interpreter {found.display()} does not satisfy "
        "requires-python '>=3.10' from x/pyproject.toml."
    )


def test_select_dedupes_and_keeps_order() -> None:
    exe = pyenv_python("3.12")
    pyenv_python("3.9")
    chosen = interpreters.select(["3.12", str(exe), "3.9"])
    assert [i.version_str for i in chosen] == ["3.12", "3.9"]


def test_select_nothing_left_says_so() -> None:
    with pytest.raises(InterpreterError, match=r"No Python interpreter satisfies requires-python"):
        interpreters.select(find=True, requires_python=SpecifierSet(">=4"))


def test_select_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert interpreters.select() == [interpreters.default()]
    with pytest.raises(InterpreterError, match=r"^The default interpreter CPython"):
        interpreters.select(requires_python=SpecifierSet("<3"))


# --- list-python ----------------------------------------------------------------------


def test_list_python_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    exe = pyenv_python("3.12")
    assert main(["list-python"]) == 0
    lines = capsys.readouterr().out.splitlines()
    count = len(interpreters.find_all())
    assert lines[0] == f"🐍 {count} python interpreter{'s' if count != 1 else ''} found:"
    assert f" - CPython 3.12 at {exe}" in lines
    assert main(["list-python", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"executable": str(exe), "abi_tag": "cp312"}.items() <= next(
        r for r in rows if r["executable"] == str(exe)
    ).items()


def test_list_python_subprocess(fresh_cache: Path, tmp_path: Path) -> None:
    env = dict(os.environ, MATURIN_NOX_CACHE_DIR=str(fresh_cache))
    proc = subprocess.run(
        [sys.executable, "-m", "maturin_nox", "list-python"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert re.match(r"🐍 \d+ python interpreters? found:", lines[0])
    assert len(lines) == len(interpreters.find_all()) + 1
    assert all(re.match(r" - (CPython|PyPy|GraalPy) 3\.\d+\w* at /", line) for line in lines[1:])


def test_a_cpython_that_is_not_installed_is_described_from_its_version(monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    described = interpreters.not_installed("python3.15t")
    assert described is not None and not described.runnable
    assert (described.version, described.gil_disabled) == ((3, 15, 0), True)
    assert described.ext_suffix.startswith(".cpython-315t-")
    assert described.ext_suffix.endswith(".so")
    assert described.abi_tag == "cp315t" and described.python_tag == "cp315"
    assert described.display() == "CPython 3.15t (not installed)"
    for spec in ("pypy3.15", "3", "3.5", "/opt/python3.15", "2.7"):
        assert interpreters.not_installed(spec) is None, spec


def test_only_pyo3_builds_take_an_interpreter_that_is_not_installed() -> None:
    with pytest.raises(InterpreterError):
        interpreters.select(["3.15"])
    (chosen,) = interpreters.select(["3.15"], not_installed_ok=True)
    assert not chosen.runnable and chosen.version_str == "3.15"
