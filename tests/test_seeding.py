"""A cold interpreter matrix compiles its interpreter-independent crates once.

A fresh cargo target root, the pyo3-pure crate built for two interpreters: the
second configuration starts from a copy of the first, so cargo compiles syn,
quote and proc-macro2 once and pyo3 (which reads PYO3_PYTHON) twice. The copies
share no inodes, so rebuilding one configuration leaves the other correct.
By default the others are copied while the first still builds, once its
interpreter-independent crates are built; MATURIN_NOX_EARLY_SEED=0 waits for it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from conftest import CRATES, TARGET, pip_install, pyenv_python, run_check

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def build(
    crate: Path,
    target: Path,
    out: Path,
    versions: Sequence[str] = ("3.9", "3.12"),
    env: Optional[Dict[str, str]] = None,
    verbose: bool = False,
    extra: Sequence[str] = (),
) -> str:
    cmd = [
        sys.executable,
        "-m",
        "maturin_nox",
        "build",
        *(["-v"] if verbose else []),
        "-o",
        str(out),
        "--target-dir",
        str(target),
        *extra,
    ]
    for version in versions:
        cmd += ["-i", str(pyenv_python(version))]
    run_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run(cmd, cwd=crate, env=run_env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


EARLY = "Starting the other interpreters from"

_SHIM = """#!{python}
# logs each cargo build's jobserver and priority (once it ends: the priority is
# lowered just after it starts), then exits as cargo did
import json, os, re, stat, subprocess, sys
auth = re.search(r"--jobserver-auth=(\\d+),(\\d+)", os.environ.get("CARGO_MAKEFLAGS", ""))
fds = [int(fd) for fd in auth.groups()] if auth else []
pipes = bool(fds) and all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in fds)
code = subprocess.call([{real!r}, *sys.argv[1:]], pass_fds=fds)
with open({log!r}, "a") as out:
    out.write(json.dumps(dict(cmd=sys.argv[1], auth=auth and auth.group(0), pipes=pipes,
                              nice=os.getpriority(os.PRIO_PROCESS, 0))) + "\\n")
sys.exit(code)
"""


def cargo_shim(tmp_path: Path) -> Tuple[Dict[str, str], Path]:
    """$CARGO pointing at a shim that logs each run's jobserver and priority (JSON lines)."""
    real = shutil.which("cargo")
    assert real is not None
    log = tmp_path / "cargo-runs.jsonl"
    shim = tmp_path / "cargo-shim"
    shim.write_text(_SHIM.format(python=sys.executable, real=real, log=str(log)))
    shim.chmod(0o755)
    return {"CARGO": str(shim)}, log


def cargo_runs(log: Path) -> List[Dict[str, object]]:
    runs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    return [r for r in runs if r["cmd"] == "rustc"]


def test_the_second_interpreter_starts_from_the_first_ones_build(
    tmp_path: Path, fresh_venv
) -> None:
    crate = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target", "*.so"))
    target = tmp_path / "target"  # cold: nothing built yet
    err = build(crate, target, tmp_path / "out", env={"MATURIN_NOX_EARLY_SEED": "0"})
    for shared in ("syn", "quote", "proc-macro2"):
        assert err.count(f"Compiling {shared} v") == 1, err
    assert err.count("Compiling pyo3 v") == 2, err
    configs = sorted(p for p in (target / "maturin-nox").iterdir() if p.is_dir())
    assert len(configs) == 2
    syn = [next((c / "debug" / "deps").glob("libsyn-*.rlib")) for c in configs]
    assert syn[0].name == syn[1].name and os.stat(syn[0]).st_ino != os.stat(syn[1]).st_ino
    # an edit rebuilds both configurations from their own folders; both wheels work
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("a + b\n", "a + b + 0\n", 1))
    err = build(crate, target, tmp_path / "out")
    assert err.count("Compiling pyo3-pure v") == 2 and "Compiling syn" not in err, err
    for wheel in sorted((tmp_path / "out").glob("*.whl")):
        version = "3.9" if "-cp39-" in wheel.name else "3.12"
        python = fresh_venv(version)
        pip_install(python, str(wheel))
        assert "OK" in run_check(python, "pyo3-pure", tmp_path)


def test_a_cold_matrix_starts_the_others_while_the_first_builds(tmp_path: Path, fresh_venv) -> None:
    """Copied from a target folder cargo is still writing: the shared crates stay fresh in
    every copy (compiled once in all), and every wheel works."""
    crate = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target", "*.so"))
    target = tmp_path / "target"
    versions = ("3.9", "3.12", "3.13")
    shim_env, log = cargo_shim(tmp_path)
    err = build(
        crate,
        target,
        tmp_path / "out",
        versions,
        env={"MATURIN_NOX_EARLY_SEED": "1", **shim_env},
        verbose=True,
    )
    assert EARLY in err, err
    # the three cargos shared one jobserver (a pipe), and those beyond the machine's
    # cores ran at the lowest priority
    runs = cargo_runs(log)
    assert len(runs) == 3 and len({r["auth"] for r in runs}) == 1, runs
    assert runs[0]["auth"] and all(r["pipes"] for r in runs), runs
    cores = os.cpu_count() or 1
    assert sorted(r["nice"] for r in runs) == sorted(
        [0] * min(3, cores) + [19] * max(0, 3 - cores)
    ), runs
    # (parallel cargos interleave their -v output: the target folders are the witnesses)
    configs = sorted(p for p in (target / "maturin-nox").iterdir() if p.is_dir())
    assert len(configs) == 3

    def built(crate_name: str) -> List[int]:
        return [
            next((c / "debug" / "deps").glob(f"lib{crate_name}-*.rlib")).stat().st_mtime_ns
            for c in configs
        ]

    for shared in ("syn", "quote", "proc_macro2", "unindent"):
        assert len(set(built(shared))) == 1, shared  # compiled once, copied with its mtime
    assert len(set(built("pyo3"))) == 3  # compiled for each interpreter
    wheels = sorted((tmp_path / "out").glob("*.whl"))
    assert len(wheels) == 3
    for wheel, version in zip(wheels, ("3.12", "3.13", "3.9")):  # cp312 < cp313 < cp39
        assert f"-cp{version.replace('.', '')}-" in wheel.name
        python = fresh_venv(version)
        pip_install(python, str(wheel))
        assert "OK" in run_check(python, "pyo3-pure", tmp_path)
    # a second build is a no-op in every configuration
    err = build(crate, target, tmp_path / "out", versions)
    assert "Compiling" not in err, err
    # with the job count chosen (-j), cargo keeps its own jobserver, as under make's
    lib = crate / "src" / "lib.rs"
    for env, extra in (({}, ["-j", "2"]), ({"MAKEFLAGS": "-j2"}, [])):
        with lib.open("a") as handle:
            handle.write("// edited\n")
        build(crate, target, tmp_path / "out", versions, env={**shim_env, **env}, extra=extra)
        assert [r["auth"] for r in cargo_runs(log)] == [None] * 3


def test_another_projects_cold_build_starts_from_the_crates_one_built(
    tmp_path: Path, fresh_venv
) -> None:
    """pyo3-mixed after pyo3-pure (the same pyo3), each in a target folder of its own, one
    maturin-nox cache: the second compiles only its own crate, copies nothing of the first
    one's crate, shares no file with it, and its wheel works."""
    env = {"MATURIN_NOX_SEED": "1", "MATURIN_NOX_CACHE_DIR": str(tmp_path / "cache")}
    crates = {}
    for name in ("pyo3-pure", "pyo3-mixed"):
        crates[name] = tmp_path / name
        shutil.copytree(
            CRATES / name, crates[name], ignore=shutil.ignore_patterns("target", "*.so")
        )
    first, second = tmp_path / "first-target", tmp_path / "second-target"
    err = build(crates["pyo3-pure"], first, tmp_path / "out-pure", ("3.12",), env=env)
    assert "Compiling pyo3 v" in err and "Starting from" not in err, err
    (source,) = [p for p in (first / "maturin-nox").iterdir() if p.is_dir()]
    err = build(crates["pyo3-mixed"], second, tmp_path / "out-mixed", ("3.12",), env=env)
    assert f"Starting from the dependencies built for {source}" in err, err
    assert "Compiling pyo3-mixed v" in err, err
    for shared in ("syn", "quote", "proc-macro2", "pyo3-build-config", "pyo3", "libc"):
        assert f"Compiling {shared} v" not in err, err
    (copy,) = [p for p in (second / "maturin-nox").iterdir() if p.is_dir()]
    assert copy.name == source.name
    assert not list(copy.rglob("*pyo3-pure*")) and not list(copy.rglob("*pyo3_pure*"))
    pyo3 = [next((c / "debug" / "deps").glob("libpyo3-*.rlib")) for c in (source, copy)]
    assert pyo3[0].name == pyo3[1].name and os.stat(pyo3[0]).st_ino != os.stat(pyo3[1]).st_ino
    (wheel,) = (tmp_path / "out-mixed").glob("*.whl")
    python = fresh_venv("3.12")
    pip_install(python, str(wheel))
    assert "OK pyo3-mixed" in run_check(python, "pyo3-mixed", tmp_path)
    # the library is byte for byte the one a cold build in the same place makes
    seeded = _extension(wheel)
    shutil.rmtree(second)
    wheel.unlink()
    local = {**env, "MATURIN_NOX_SEED": "local"}
    err = build(crates["pyo3-mixed"], second, tmp_path / "out-mixed", ("3.12",), env=local)
    assert "Starting from" not in err and "Compiling pyo3 v" in err, err
    assert _extension(next((tmp_path / "out-mixed").glob("*.whl"))) == seeded


def test_checkouts_sharing_a_target_folder_each_ship_their_own_library(tmp_path: Path) -> None:
    """Two copies of a crate built by turns into one target folder (the test session's):
    each build ships its own copy's library, and a change of copy compiles the crate
    alone, even where one of its bins is named after a dependency (uniffi-pure's
    ``uniffi-bindgen``, whose files ``cargo clean -p`` would delete with the crate's)."""
    libraries = {}
    for round_, name in enumerate(("a", "b", "a")):
        crate = tmp_path / name / "pyo3-pure"
        if not crate.exists():
            shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target"))
        out = tmp_path / f"out-{round_}"
        build(crate, TARGET, out, ("3.12",))
        libraries[round_] = _extension(next(out.glob("*.whl")))
    assert libraries[0] != libraries[1]  # b compiled from its own folder: other paths
    assert libraries[2] == libraries[0]  # not b's library, which cargo last wrote
    for name in ("a", "b"):
        crate = tmp_path / name / "uniffi-pure"
        shutil.copytree(CRATES / "uniffi-pure", crate, ignore=shutil.ignore_patterns("target"))
        err = build(crate, TARGET, tmp_path / f"uniffi-{name}", ("3.12",))
    assert "Compiling uniffi-pure v" in err, err
    assert "Compiling uniffi_bindgen v" not in err and "Compiling uniffi v" not in err, err


def _extension(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".so")]
        return archive.read(name)


def test_behind_another_programs_work_no_cargo_runs_in_the_background(tmp_path: Path) -> None:
    """A cargo at the lowest priority would wait for all of another program's work: with
    one spinning beside the build (not a child of it), every cargo runs at normal priority."""
    crate = tmp_path / "pyo3-pure"
    shutil.copytree(CRATES / "pyo3-pure", crate, ignore=shutil.ignore_patterns("target", "*.so"))
    spin = "import time\nend = time.time() + 300\nwhile time.time() < end: pass\n"
    started = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -c "{spin}" >/dev/null 2>&1 & echo $!'],
        capture_output=True,
        text=True,
        check=True,
    )
    spinner = int(started.stdout.split()[-1])
    try:
        shim_env, log = cargo_shim(tmp_path)
        err = build(
            crate,
            tmp_path / "target",
            tmp_path / "out",
            ("3.9", "3.12", "3.13"),
            env={"MATURIN_NOX_EARLY_SEED": "1", **shim_env},
            verbose=True,
        )
    finally:
        os.kill(spinner, signal.SIGKILL)
    assert "none in the background" in err, err
    runs = cargo_runs(log)
    assert len(runs) == 3 and all(r["auth"] for r in runs), runs  # still one jobserver
    assert [r["nice"] for r in runs] == [0, 0, 0], runs
