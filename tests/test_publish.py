"""maturin-nox publish: build, audit, check and upload to a real pypiserver on loopback.

Every test runs the command as a user would (``python -m maturin_nox publish``),
with the shared cargo target dir and dev-profile builds (``--debug``) so the
cargo work is shared with the rest of the suite. Nothing may reach the index
unless every wheel built, passed the audit and passed the metadata check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import index_server
import pytest
from conftest import CRATES, TARGET, pyenv_python, run_check

from maturin_nox.cli import build_parser
from maturin_nox.cli.cmd_publish import publish_build_options

USER = "alice"
SECRET = "publish-S3cret-never-shown"
CRATE = "pyo3-pure"


@pytest.fixture()
def index(tmp_path: Path) -> Iterator[index_server.IndexServer]:
    """A fresh pypiserver that takes uploads from alice only."""
    with index_server.run_pypiserver(tmp_path / "index", users={USER: SECRET}) as server:
        yield server


@pytest.fixture()
def pypirc(tmp_path: Path) -> Path:
    """A .pypirc naming the built-in indexes only (so ~/.pypirc never leaks in)."""
    path = tmp_path / "pypirc"
    path.write_text("[distutils]\nindex-servers =\n    pypi\n    testpypi\n", encoding="utf-8")
    return path


def _env(**extra: str) -> Dict[str, str]:
    """The environment without upload settings from the outside (CI secrets, a developer's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATURIN_", "TWINE_"))}
    env.pop("CI", None)
    env.update(extra)
    return env


def publish(
    *args: str,
    out: Path,
    pypirc: Path,
    crate_dir: Path = CRATES / CRATE,
    env: Dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``maturin-nox publish`` on a crate: dev profile, shared target dir, one interpreter."""
    cmd = [
        sys.executable,
        "-m",
        "maturin_nox",
        "publish",
        "--debug",
        "-v",
        "-m",
        str(crate_dir / "Cargo.toml"),
        "--target-dir",
        str(TARGET),
        "-o",
        str(out),
        "--config-file",
        str(pypirc),
        "--non-interactive",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env or _env())


def _upload_args(index: index_server.IndexServer, password: str = SECRET) -> List[str]:
    return ["--repository-url", index.url, "-u", USER, "-p", password]


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one failure sentence the CLI printed."""
    lines = [line for line in proc.stderr.splitlines() if "maturin-nox failed" in line]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# --------------------------------------------------------------------------- real uploads


@pytest.mark.slow
def test_publish_uploads_every_wheel_and_the_sdist_which_install_back_from_the_index(
    index: index_server.IndexServer, pypirc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    proc = publish("-i", "3.9", "-i", "3.12", *_upload_args(index), out=out, pypirc=pypirc)

    assert proc.returncode == 0, proc.stderr
    built = sorted(p.name for p in out.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert len(built) == 3 and any(n.endswith(".tar.gz") for n in built)
    assert any("-cp39-" in n for n in built) and any("-cp312-" in n for n in built)
    assert index.files() == built
    for name in built:
        assert f"Uploaded {name} to {index.url}" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr  # -v output included

    # Install it back from the index into a fresh environment and run the crate's check.
    env_dir = tmp_path / "venv"
    subprocess.run(
        [str(pyenv_python("3.12")), "-m", "venv", "--without-pip", str(env_dir)], check=True
    )
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-cache-dir",
            "--index-url",
            index.simple_url,
            "--only-binary",
            ":all:",
            CRATE,
        ],
        check=True,
    )
    run_check(python, CRATE, tmp_path)


@pytest.mark.slow
def test_publish_again_with_environment_credentials_skips_what_exists(
    index: index_server.IndexServer, pypirc: Path, tmp_path: Path
) -> None:
    env = _env(MATURIN_REPOSITORY_URL=index.url, MATURIN_USERNAME=USER, MATURIN_PASSWORD=SECRET)
    first = publish("-i", "3.12", "--no-sdist", out=tmp_path / "a", pypirc=pypirc, env=env)
    assert first.returncode == 0, first.stderr
    assert len(index.files()) == 1 and index.files()[0].endswith(".whl")

    again = publish("-i", "3.12", "--skip-existing", out=tmp_path / "b", pypirc=pypirc, env=env)

    assert again.returncode == 0, again.stderr
    assert "Skipped" in again.stdout and index.files()[0] in again.stdout
    assert len(index.files()) == 2  # the sdist was new
    assert SECRET not in first.stdout + first.stderr + again.stdout + again.stderr


@pytest.mark.slow
def test_dry_run_shows_what_would_go_where_and_uploads_nothing(
    index: index_server.IndexServer, pypirc: Path, tmp_path: Path
) -> None:
    proc = publish(
        "-i", "3.12", "--dry-run", *_upload_args(index), out=tmp_path / "d", pypirc=pypirc
    )

    assert proc.returncode == 0, proc.stderr
    would = [line for line in proc.stdout.splitlines() if "Would upload" in line]
    assert len(would) == 2
    assert all(f"to {index.url} as user {USER}" in line for line in would)
    assert index.files() == []
    assert SECRET not in proc.stdout + proc.stderr


# ---------------------------------------------------------------- nothing reaches the index


@pytest.mark.slow
@pytest.mark.parametrize(
    ("auditwheel", "expected"),
    [
        # The build tags the wheel manylinux1 unchecked: the publish audit catches the lie.
        ("skip", "claims manylinux_2_5_x86_64 but its binaries only meet manylinux_2_"),
        # The build's own audit refuses manylinux1 (Rust's std needs a newer glibc).
        ("check", "manylinux"),
    ],
)
def test_a_wheel_failing_the_audit_uploads_nothing(
    index: index_server.IndexServer, pypirc: Path, tmp_path: Path, auditwheel: str, expected: str
) -> None:
    if sys.platform != "linux":
        pytest.skip("manylinux audits happen on Linux only")
    proc = publish(
        "-i",
        "3.12",
        "--compatibility",
        "manylinux1",
        "--auditwheel",
        auditwheel,
        *_upload_args(index),
        out=tmp_path / "bad",
        pypirc=pypirc,
    )

    assert proc.returncode == 1
    assert expected in _error_line(proc)
    assert index.files() == []
    assert "Uploaded" not in proc.stdout


@pytest.mark.slow
def test_a_readme_that_would_not_render_uploads_nothing(
    index: index_server.IndexServer, pypirc: Path, tmp_path: Path
) -> None:
    crate = tmp_path / "bad-readme"
    shutil.copytree(CRATES / CRATE, crate, ignore=shutil.ignore_patterns("target"))
    (crate / "README.md").unlink()
    (crate / "README.rst").write_text(
        "Title\n=====\n\n.. nosuchdirective:: boom\n", encoding="utf-8"
    )
    pyproject = crate / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            'readme = "README.md"', 'readme = "README.rst"'
        ),
        encoding="utf-8",
    )

    proc = publish(
        "-i", "3.12", *_upload_args(index), out=tmp_path / "out", pypirc=pypirc, crate_dir=crate
    )

    assert proc.returncode == 1
    line = _error_line(proc)
    assert "failed the metadata check" in line and "Nothing was uploaded" in line
    assert index.files() == []


# ------------------------------------------------------------------------------ bad input


@pytest.mark.slow
def test_wrong_credentials_are_one_sentence_without_the_secret(
    index: index_server.IndexServer, pypirc: Path, tmp_path: Path
) -> None:
    wrong = "Wr0ng-publish-Passw0rd"
    proc = publish("-i", "3.12", *_upload_args(index, wrong), out=tmp_path / "o", pypirc=pypirc)

    assert proc.returncode == 1
    assert _error_line(proc).endswith(
        f"The index at {index.url} refused the credentials for user {USER} (HTTP 403)."
    )
    assert wrong not in proc.stdout + proc.stderr
    assert index.files() == []


@pytest.mark.slow
def test_an_unreachable_repository_is_one_sentence(pypirc: Path, tmp_path: Path) -> None:
    with index_server.refused_url() as url:
        proc = publish(
            "-i",
            "3.12",
            "--no-sdist",
            "--repository-url",
            url,
            "-u",
            USER,
            "-p",
            SECRET,
            out=tmp_path / "o",
            pypirc=pypirc,
        )

    assert proc.returncode == 1
    assert "connection refused" in _error_line(proc)
    assert SECRET not in proc.stdout + proc.stderr


def test_a_repository_missing_from_pypirc_fails_before_building(
    pypirc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    proc = publish("-i", "3.12", "-r", "nosuch", out=out, pypirc=pypirc)

    assert proc.returncode == 1
    assert _error_line(proc).endswith(
        f"Repository 'nosuch' is not defined in {pypirc} (known: pypi, testpypi)."
    )
    assert not out.exists()  # resolved before the build: no wasted minutes


def test_missing_credentials_without_a_terminal_fail_before_building(
    pypirc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    proc = publish("-i", "3.12", "--repository-url", "http://127.0.0.1:9/", out=out, pypirc=pypirc)

    assert proc.returncode == 1
    assert "No credentials for http://127.0.0.1:9/" in _error_line(proc)
    assert not out.exists()


# ------------------------------------------------------------------------- flag defaults


def _options(*argv: str):  # type: ignore[no-untyped-def]
    args = build_parser(["publish", *argv]).parse_args(["publish", *argv])
    return publish_build_options(args)


def test_publish_builds_release_and_strips_unless_told_otherwise() -> None:
    assert (_options().release, _options().strip) == (True, True)
    assert _options("--debug").release is False
    assert _options("--no-strip").strip is False
    assert _options("-o", "dist").out_dir == Path("dist")


def test_plain_linux_wheels_are_refused_for_pypi_only(tmp_path: Path) -> None:
    from maturin_nox.errors import UploadError
    from maturin_nox.publish import refuse_plain_linux_on_pypi
    from maturin_nox.upload import DEFAULT_REPOSITORY, Repository

    wheel = tmp_path / "demo-0.1.0-cp312-cp312-linux_x86_64.whl"
    with pytest.raises(UploadError, match="plain linux platform tag"):
        refuse_plain_linux_on_pypi([wheel], Repository(DEFAULT_REPOSITORY, "__token__", "x"))
    refuse_plain_linux_on_pypi([wheel], Repository("http://127.0.0.1:8080/", "alice", "x"))
    many = tmp_path / "demo-0.1.0-cp312-cp312-manylinux_2_17_x86_64.whl"
    refuse_plain_linux_on_pypi([many], Repository(DEFAULT_REPOSITORY, "__token__", "x"))
