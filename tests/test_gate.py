"""The publish gate: recorded audit and test results per wheel sha256, and what it lets through.

Unit tests judge real wheels (built once) with results written by the gate's
own recorder; the integration tests run sessions/release.py with real nox and
publish to a real pypiserver (or a faulty index) on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from index_server import refused_url, run_fault_server, run_pypiserver

from maturin_nox import gate
from maturin_nox.wheel import WheelWriter, read_wheel

REPO = Path(__file__).resolve().parents[1]
CRATES = REPO / "test-crates"
RELEASE = REPO / "sessions" / "release.py"
TARGET = Path(
    os.environ.get(
        "MATURIN_NOX_TEST_TARGET", Path.home() / ".cache" / "maturin-nox-tests" / "target"
    )
)
CREDENTIALS = {"TWINE_USERNAME": "tester", "TWINE_PASSWORD": "not-a-secret"}
_CREDENTIAL_VARS = (
    "MATURIN_PYPI_TOKEN",
    "MATURIN_USERNAME",
    "MATURIN_PASSWORD",
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "MATURIN_REPOSITORY",
    "MATURIN_REPOSITORY_URL",
    "TWINE_REPOSITORY",
    "TWINE_REPOSITORY_URL",
)


# --- helpers ---------------------------------------------------------------------------


def corrupt(wheel: Path) -> None:
    """Change one file inside the wheel without touching its RECORD."""
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("__init__.py"):
                data += b"\n# tampered\n"
            dst.writestr(info, data)
    os.replace(tmp, wheel)


def retag(wheel: Path, out_dir: Path, platform: str) -> Path:
    """The same wheel rewritten (consistently) under another platform tag."""
    contents = read_wheel(wheel)
    python, abi, _ = contents.tag.split("-")
    writer = WheelWriter(out_dir, contents.name, contents.version, [f"{python}-{abi}-{platform}"])
    for arcname, data in contents.files.items():
        if arcname.startswith(contents.dist_info + "/"):
            leaf = arcname[len(contents.dist_info) + 1 :]
            if leaf not in ("WHEEL", "RECORD"):
                writer.add_dist_info(leaf, data)
        else:
            writer.add_bytes(arcname, data, executable=arcname in contents.executables)
    return writer.finish()


def passing_test(wheel: Path, ok: bool = True, detail: str = "") -> gate.TestResult:
    return gate.TestResult(
        wheel.name,
        gate.file_sha256(wheel),
        "CPython 3.12.1",
        "/usr/bin/python3.12",
        ok,
        ("pytest",),
        detail,
    )


def nox(
    project: Path, *args: str, env: Optional[Dict[str, str]] = None, drop: tuple = ()
) -> subprocess.CompletedProcess:
    """Run nox with sessions/release.py from the project folder; output merged."""
    full = {
        **os.environ,
        "MATURIN_NOX_TARGET_DIR": str(TARGET),
        "MATURIN_NOX_RELEASE": "0",
        "MATURIN_NOX_PYTHONS": "3.9,3.12",
        **(env or {}),
    }
    for name in ("PYTHONPATH", *drop):
        full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(RELEASE), *args],
        cwd=project,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=900,
    )


def publish(project: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess:
    return nox(project, "-s", "publish", "--", *args, **kwargs)  # type: ignore[arg-type]


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "Traceback" not in proc.stdout, proc.stdout[-6000:]
    return proc.stdout


def failed(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, proc.stdout[-6000:]
    assert "Traceback" not in proc.stdout, proc.stdout[-6000:]
    assert "Uploaded " not in proc.stdout, proc.stdout[-6000:]
    return proc.stdout


def dists(project: Path) -> List[Path]:
    return sorted(
        p for p in (project / "target" / "wheels").iterdir() if not p.name.startswith(".")
    )


# --- unit tests on real wheels -----------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> List[Path]:
    """pyo3-mixed wheels for 3.9 and 3.12, built once for this module."""
    from maturin_nox import build

    out = tmp_path_factory.mktemp("gate-wheels")
    return [
        w.path
        for w in build(
            manifest_path=CRATES / "pyo3-mixed" / "Cargo.toml",
            interpreters=["3.9", "3.12"],
            out_dir=out,
            target_dir=TARGET,
        )
    ]


@pytest.fixture()
def folder(built: List[Path], tmp_path: Path) -> Path:
    """A fresh wheel folder holding copies of the built wheels, no results yet."""
    for wheel in built:
        shutil.copy2(wheel, tmp_path / wheel.name)
    return tmp_path


def record_all(folder: Path) -> None:
    for wheel in folder.glob("*.whl"):
        gate.record_audit(folder, gate.audit_wheel(wheel))
        gate.record_test(folder, passing_test(wheel))


def test_empty_folder_has_nothing_to_publish(tmp_path: Path) -> None:
    verdict = gate.evaluate(tmp_path)
    assert not verdict.ok and "no wheels or sdists" in verdict.problems[0]


@pytest.mark.slow
def test_the_gate_audits_wheels_with_no_audit_and_blocks_untested_ones(folder: Path) -> None:
    verdict = gate.evaluate(folder, check_metadata=False)
    assert not verdict.ok
    # the audit is never missing: the gate makes it and records it for the wheel's bytes
    assert [(f.audit, f.tests) for f in verdict.files] == [("passed", "missing")] * 2
    recorded = gate.load_results(folder)["wheels"]
    assert all(recorded[f.path.name]["audit"]["ok"] for f in verdict.files)
    assert all("no test results recorded" in p for p in verdict.problems)


@pytest.mark.slow
def test_audited_and_tested_wheels_pass_with_twine_check(folder: Path) -> None:
    record_all(folder)
    verdict = gate.evaluate(folder)
    assert verdict.ok, verdict.problems
    assert [f.check for f in verdict.files] == ["passed", "passed"]
    assert verdict.paths == sorted(folder.glob("*.whl"))


@pytest.mark.slow
def test_a_failed_test_run_blocks_and_names_the_interpreter(folder: Path) -> None:
    record_all(folder)
    wheel = sorted(folder.glob("*.whl"))[0]
    gate.record_test(
        folder,
        gate.TestResult(
            wheel.name,
            gate.file_sha256(wheel),
            "CPython 3.9.18",
            "/py39",
            False,
            ("pytest",),
            "exit 1",
        ),
    )
    verdict = gate.evaluate(folder)
    assert not verdict.ok and [f.path for f in verdict.failed()] == [wheel]
    assert verdict.problems == (f"{wheel.name} failed its tests with CPython 3.9.18 (exit 1).",)


@pytest.mark.slow
def test_results_for_other_bytes_do_not_count(folder: Path) -> None:
    record_all(folder)
    wheel = sorted(folder.glob("*.whl"))[0]
    corrupt(wheel)
    verdict = gate.evaluate(folder)
    (blocked,) = verdict.failed()
    assert blocked.path == wheel and (blocked.audit, blocked.tests) == ("failed", "missing")
    assert blocked.check == "failed"  # twine check (with RECORD hashes) refuses it too


@pytest.mark.slow
def test_audit_catches_a_corrupted_record(folder: Path) -> None:
    wheel = sorted(folder.glob("*.whl"))[0]
    corrupt(wheel)
    result = gate.audit_wheel(wheel)
    assert not result.ok and "does not match its RECORD hash" in result.problems[0]
    gate.record_audit(folder, result)
    verdict = gate.evaluate(folder, check_metadata=False)
    assert any(p.startswith(f"{wheel.name} failed its audit:") for p in verdict.problems)


@pytest.mark.slow
def test_audit_refuses_a_manylinux_claim_the_binaries_do_not_meet(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheel = sorted(folder.glob("*.whl"))[0]
    claimed = retag(wheel, tmp_path_factory.mktemp("retag"), "manylinux_2_17_x86_64")
    result = gate.audit_wheel(claimed)
    assert not result.ok
    assert (
        "claims manylinux_2_17_x86_64 but its binaries only meet manylinux_2_" in result.problems[0]
    )
    plain = gate.audit_wheel(retag(wheel, tmp_path_factory.mktemp("plain"), "linux_x86_64"))
    assert plain.ok and "PyPI refuses" in plain.notes[0]


@pytest.mark.slow
def test_audit_refuses_a_file_name_that_disagrees_with_metadata(folder: Path) -> None:
    wheel = sorted(folder.glob("*.whl"))[0]
    renamed = wheel.with_name(wheel.name.replace("0.4.0", "0.5.0"))
    wheel.rename(renamed)
    result = gate.audit_wheel(renamed)
    assert not result.ok


@pytest.mark.slow
def test_an_unreadable_results_file_counts_as_no_results(folder: Path) -> None:
    record_all(folder)
    (folder / gate.RESULTS_FILE).write_text("{not json")
    verdict = gate.evaluate(folder, check_metadata=False)
    assert not verdict.ok and all(f.tests == "missing" for f in verdict.files)


# --- release.py with real nox and real index servers ------------------------------------


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyo3-mixed with sessions/release.py run: wheels, sdist, tests and audit recorded."""
    project = tmp_path_factory.mktemp("release") / "pyo3-mixed"
    ignore = shutil.ignore_patterns("target", ".nox", "*.so", "__pycache__", ".pytest_cache")
    # Fresh mtimes (not copy2's): cargo must not take another copy's build for this one.
    shutil.copytree(CRATES / "pyo3-mixed", project, ignore=ignore, copy_function=shutil.copy)
    out = ok(nox(project))
    for session in ("build", "sdist", "test", "audit"):
        assert f"* {session}: success" in out
    assert "publish" not in out.split("Ran ")[-1]  # a bare `nox` never uploads
    return project


@pytest.fixture()
def release_copy(released: Path, tmp_path: Path) -> Path:
    """A copy of the released project (wheels and results included) a test may spoil."""
    return Path(shutil.copytree(released, tmp_path / "p", ignore=shutil.ignore_patterns(".nox")))


@pytest.mark.slow
def test_publish_uploads_everything_that_passed_and_pip_installs_it_back(
    released: Path, tmp_path: Path, fresh_venv
) -> None:
    with run_pypiserver(tmp_path / "index") as server:
        out = ok(publish(released, "--repository-url", server.url, "--dry-run", env=CREDENTIALS))
        assert out.count("Would upload") == 3 and server.files() == []

        out = ok(publish(released, "--repository-url", server.url, env=CREDENTIALS))
        names = [p.name for p in dists(released)]
        assert server.files() == sorted(names) and out.count("Uploaded ") == 3

        python = fresh_venv("3.12")
        pip = [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--index-url",
            server.simple_url,
            "pyo3-mixed==0.4.0",
        ]
        subprocess.run(pip, check=True, capture_output=True, cwd=tmp_path)
        check = subprocess.run(
            [str(python), "-c", "import pyo3_mixed; print(pyo3_mixed.sum_as_string(40, 2))"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert check.stdout.strip() == "42", check.stderr

        # The same files again: a clear refusal, then a clean skip.
        out = failed(publish(released, "--repository-url", server.url, env=CREDENTIALS))
        assert "already exists on the package index" in out and "--skip-existing" in out
        out = ok(
            publish(released, "--repository-url", server.url, "--skip-existing", env=CREDENTIALS)
        )
        assert out.count("Skipped ") == 3


@pytest.mark.slow
def test_publish_reports_an_index_failing_with_5xx(released: Path) -> None:
    with run_fault_server(503) as server:
        out = failed(publish(released, "--repository-url", server.url, env=CREDENTIALS))
    first = next(p.name for p in dists(released) if p.name.endswith(".whl"))
    assert f"failed with HTTP 503 while uploading {first}; nothing after it was uploaded" in out
    assert server.posts >= 1  # twine retries a 5xx, but on the first file only
    assert set(server.received) == {first}  # what the index was sent, not what we were told


@pytest.mark.slow
def test_publish_reports_a_refused_connection(released: Path) -> None:
    with refused_url() as url:
        out = failed(publish(released, "--repository-url", url, env=CREDENTIALS))
    assert f"Cannot reach the package index at {url}: connection refused" in out


@pytest.mark.slow
def test_publish_without_credentials_names_the_variable_to_set(
    released: Path, tmp_path: Path
) -> None:
    out = failed(
        publish(
            released,
            "--repository-url",
            "http://127.0.0.1:9/",
            env={"HOME": str(tmp_path)},
            drop=_CREDENTIAL_VARS,
        )
    )
    assert "No credentials for http://127.0.0.1:9/: set MATURIN_PYPI_TOKEN" in out


@pytest.mark.slow
def test_bad_publish_arguments_are_one_sentence(released: Path) -> None:
    out = failed(publish(released, "--no-such-flag"))
    assert "Bad arguments for `nox -s publish --`" in out


@pytest.mark.slow
def test_a_failing_test_blocks_the_upload(release_copy: Path, tmp_path: Path) -> None:
    (release_copy / "tests" / "test_broken.py").write_text(
        "def test_broken():\n    assert 1 == 2\n"
    )
    out = nox(release_copy, "-s", "test").stdout
    assert "FAILED (exit 1)" in out
    with run_pypiserver(tmp_path / "index") as server:
        out = failed(publish(release_copy, "--repository-url", server.url, env=CREDENTIALS))
        assert (
            "failed its tests with CPython 3.9" in out
            and "failed its tests with CPython 3.12" in out
        )
        assert "Nothing was uploaded: 2 of 3 files did not pass the publish gate" in out
        assert server.files() == []


@pytest.mark.slow
def test_a_corrupted_wheel_blocks_the_upload(release_copy: Path, tmp_path: Path) -> None:
    wheel = next(p for p in dists(release_copy) if p.name.endswith(".whl"))
    corrupt(wheel)
    with run_pypiserver(tmp_path / "index") as server:
        out = failed(publish(release_copy, "--repository-url", server.url, env=CREDENTIALS))
        # the gate audits what has no audit for its bytes, and the tests never ran on these
        assert f"{wheel.name} failed its audit" in out
        assert "Run `nox -s test`" in out
        out = failed(nox(release_copy, "-s", "audit"))
        assert "does not match its RECORD hash" in out
        out = failed(publish(release_copy, "--repository-url", server.url, env=CREDENTIALS))
        assert f"{wheel.name} failed its audit" in out
        assert server.files() == []
    recorded = json.loads((wheel.parent / gate.RESULTS_FILE).read_text())["wheels"][wheel.name]
    assert recorded["audit"]["ok"] is False and recorded["sha256"] == gate.file_sha256(wheel)


# --- merging what CI jobs recorded: maturin-nox gate --merge --------------------------------


def _gate(*args: str) -> subprocess.CompletedProcess:
    from conftest import cli

    return cli("gate", *args)


def _job_results(folder: Path, root: Path, ok: bool = True) -> None:
    """What each CI test job keeps: a results file for one wheel, in an artifact folder."""
    for n, wheel in enumerate(sorted(folder.glob("*.whl"))):
        job = root / f"results-{n}"
        job.mkdir(parents=True)
        copy = Path(shutil.copy2(wheel, job / wheel.name))
        gate.record_audit(job, gate.audit_wheel(copy))
        gate.record_test(job, passing_test(copy, ok=ok or n > 0, detail="" if ok else "exit 1"))
        copy.unlink()  # the artifact holds the results file only


@pytest.mark.slow
def test_the_gate_command_passes_once_the_ci_jobs_results_are_merged(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    results = tmp_path_factory.mktemp("artifacts")
    _job_results(folder, results)

    blocked = _gate(str(folder), "--no-check")
    assert blocked.returncode == 1
    assert blocked.stderr.strip().splitlines()[-1] == (
        f"💥 maturin-nox failed: 2 of 2 files in {folder} did not pass the publish gate."
    )

    passed = _gate(str(folder), "--merge", str(results))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    # The first run audited the wheels itself and kept the verdicts: only the two
    # test runs are news.
    assert "Merged 2 recorded results from 1 source(s)" in passed.stdout
    assert f"All 2 files in {folder} passed the publish gate" in passed.stdout
    assert gate.evaluate(folder, check_metadata=False).ok  # kept in the folder's results


@pytest.mark.slow
def test_merging_never_hides_a_failure_recorded_elsewhere(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    record_all(folder)  # this folder says everything passed...
    results = tmp_path_factory.mktemp("artifacts")
    _job_results(folder, results, ok=False)  # ...a CI job saw one wheel fail
    proc = _gate(str(folder), "--no-check", "--merge", str(results))
    assert proc.returncode == 1
    assert "failed its tests with CPython 3.12.1 (exit 1)." in proc.stdout


def test_merging_from_a_folder_without_results_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    proc = _gate(str(tmp_path / "dist"), "--merge", str(tmp_path / "nothing"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "💥 maturin-nox failed: There is no results file (.maturin-nox-results.json) at "
        f"{tmp_path / 'nothing'} to merge."
    )
