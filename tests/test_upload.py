"""Uploading: repository resolution, twine's check, real uploads to a loopback pypiserver."""

from __future__ import annotations

import base64
import io
import logging
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import index_server
import pytest

from maturin_nox.errors import UploadError
from maturin_nox.upload import (
    DEFAULT_REPOSITORY,
    TEST_REPOSITORY,
    Outcome,
    Repository,
    check_distributions,
    resolve_repository,
    upload,
)
from maturin_nox.wheel import WheelWriter

NAME = "mnox-upload-demo"
MODULE = "mnox_upload_demo"
USER = "alice"
SECRET = "hunter2-Sup3r-S3cret"
TOKEN = "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZg-test-token"

GOOD_METADATA = f"""\
Metadata-Version: 2.1
Name: {NAME}
Version: {{version}}
Summary: A tiny package to test uploads
Description-Content-Type: text/markdown

# mnox-upload-demo

Uploaded by the maturin-nox test suite.
"""


def _metadata(version: str, body: Optional[str] = None) -> str:
    return GOOD_METADATA.format(version=version) if body is None else body


def make_wheel(
    out: Path, version: str = "0.1.0", metadata: Optional[str] = None, name: str = NAME
) -> Path:
    """A small, valid, pure-Python wheel whose module answers 42."""
    writer = WheelWriter(out, name, version, ["py3-none-any"], root_is_purelib=True)
    module = name.replace("-", "_")
    writer.add_bytes(f"{module}/__init__.py", "def answer():\n    return 42\n")
    writer.add_dist_info("METADATA", _metadata(version, metadata))
    return writer.finish()


def make_sdist(out: Path, version: str = "0.1.0") -> Path:
    """A small sdist with PKG-INFO, as twine and pypiserver expect."""
    out.mkdir(parents=True, exist_ok=True)
    base = f"{MODULE}-{version}"
    path = out / f"{base}.tar.gz"
    files = {
        f"{base}/PKG-INFO": _metadata(version),
        f"{base}/{MODULE}/__init__.py": "def answer():\n    return 42\n",
    }
    with tarfile.open(path, "w:gz") as tar:
        for arcname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """One good wheel and sdist, plus distributions that must fail the check."""
    root = tmp_path_factory.mktemp("dists")
    bad_rst = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: 0.2.0\n"
        "Description-Content-Type: text/x-rst\n\nTitle\n=====\n\n.. nosuchdirective:: a\n"
    )
    no_version = f"Metadata-Version: 2.1\nName: {NAME}\nSummary: s\n"
    return {
        "wheel": make_wheel(root / "good"),
        "sdist": make_sdist(root / "good"),
        "bad_rst": make_wheel(root / "bad_rst", "0.2.0", bad_rst),
        "no_version": make_wheel(root / "no_version", "0.3.0", no_version),
    }


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder (no ~/.pypirc) and no upload variables in the environment."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in list(os.environ):
        if var.startswith(("MATURIN_", "TWINE_")):
            monkeypatch.delenv(var)
    return tmp_path


@pytest.fixture()
def index(tmp_path: Path) -> Iterator[index_server.IndexServer]:
    """A fresh pypiserver that takes uploads from alice only."""
    with index_server.run_pypiserver(tmp_path / "index", users={USER: SECRET}) as server:
        yield server


def _repo(url: str, password: str = SECRET) -> Repository:
    return resolve_repository(repository_url=url, username=USER, password=password, env={})


def _clean_env(home: Path, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATURIN_", "TWINE_"))}
    env["HOME"] = str(home)
    env.update(extra)
    return env


# ----------------------------------------------------------------- real uploads


def test_wheel_and_sdist_upload_then_pip_installs_the_wheel_from_the_index(
    index: index_server.IndexServer, dists: Dict[str, Path], tmp_path: Path
) -> None:
    report = upload([dists["wheel"], dists["sdist"]], _repo(index.url))

    assert [(r.path, r.outcome) for r in report.files] == [
        (dists["wheel"], Outcome.UPLOADED),
        (dists["sdist"], Outcome.UPLOADED),
    ]
    assert index.files() == sorted([dists["wheel"].name, dists["sdist"].name])
    assert index.listed(NAME) == index.files()

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)  # our pip installs into it: no ensurepip wait
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
            "--no-deps",
            "--index-url",
            index.simple_url,
            "--only-binary",
            ":all:",
            f"{NAME}==0.1.0",
        ],
        check=True,
    )
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    out = subprocess.run(
        [str(python), "-c", f"import {MODULE}; print({MODULE}.answer(), {MODULE}.__file__)"],
        cwd=run_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out[0] == "42"
    assert str(env_dir) in out[1]


def test_wrong_password_is_refused_and_never_shown(
    index: index_server.IndexServer, dists: Dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-Passw0rd-do-not-print"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UploadError) as info:
        upload([dists["wheel"]], _repo(index.url, password=wrong))

    assert str(info.value) == (
        f"The index at {index.url} refused the credentials for user {USER} (HTTP 403)."
    )
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert wrong not in repr(info.value)
    assert wrong not in caplog.text
    assert index.files() == []


def test_unreachable_index_says_connection_refused(dists: Dict[str, Path]) -> None:
    with index_server.refused_url() as url, pytest.raises(UploadError) as info:
        upload([dists["wheel"]], Repository(url, USER, SECRET))
    assert str(info.value) == f"Cannot reach the package index at {url}: connection refused."
    assert SECRET not in str(info.value)


def test_server_error_names_the_file_and_stops(dists: Dict[str, Path]) -> None:
    with index_server.run_fault_server(500) as fault, pytest.raises(UploadError) as info:
        upload([dists["wheel"], dists["sdist"]], Repository(fault.url, USER, SECRET))
    assert str(info.value) == (
        f"The package index at {fault.url} failed with HTTP 500 while uploading "
        f"{dists['wheel'].name}; nothing after it was uploaded."
    )
    assert fault.posts >= 1
    assert set(fault.received) == {dists["wheel"].name}  # what the index was sent


def test_a_failure_in_the_middle_leaves_the_index_holding_only_what_came_before(
    index: index_server.IndexServer, dists: Dict[str, Path], tmp_path: Path
) -> None:
    later = make_wheel(tmp_path / "later", "0.1.1")
    files = [dists["wheel"], dists["sdist"], later]
    with index_server.run_failing_proxy(index, fail_on=dists["sdist"].name) as proxy:
        with pytest.raises(UploadError) as info:
            upload(files, _repo(proxy.url))
    assert str(info.value) == (
        f"The package index at {proxy.url} failed with HTTP 500 while uploading "
        f"{dists['sdist'].name}; nothing after it was uploaded "
        f"({dists['wheel'].name} had been uploaded before it)."
    )
    # asked, not told: the index's folder and its simple page over HTTP
    assert index.files() == [dists["wheel"].name]
    assert index.listed(NAME) == [dists["wheel"].name]
    assert later.name not in proxy.received  # nothing after the failed file was even sent
    assert proxy.received[0] == dists["wheel"].name


@pytest.mark.parametrize("status", [400, 403, 502])
def test_an_index_echoing_the_password_never_gets_it_shown(
    dists: Dict[str, Path], caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    with index_server.run_fault_server(status, echo_credentials=True) as fault:
        repo = Repository(fault.url, USER, SECRET)
        with pytest.raises(UploadError) as info:
            upload([dists["wheel"]], repo)
    assert "fault server says" in caplog.text  # the echo really reached us
    for text in (str(info.value), caplog.text):
        assert SECRET not in text
        assert base64.b64encode(f"{USER}:{SECRET}".encode()).decode() not in text
    if status == 400:
        assert "fault server says 400 for Basic ******** (alice:********)" in str(info.value)


def test_existing_file_fails_without_skip_existing_and_says_what_was_uploaded(
    index: index_server.IndexServer, dists: Dict[str, Path]
) -> None:
    repo = _repo(index.url)
    upload([dists["sdist"]], repo)

    with pytest.raises(UploadError) as info:
        upload([dists["wheel"], dists["sdist"]], repo)

    message = str(info.value)
    assert message.startswith(f"{dists['sdist'].name} already exists on the package index")
    assert "--skip-existing" in message
    assert f"{dists['wheel'].name} had been uploaded before it" in message
    assert index.files() == sorted([dists["wheel"].name, dists["sdist"].name])


def test_existing_file_is_skipped_with_skip_existing(
    index: index_server.IndexServer, dists: Dict[str, Path]
) -> None:
    repo = _repo(index.url)
    upload([dists["wheel"]], repo)

    report = upload([dists["wheel"], dists["sdist"]], repo, skip_existing=True)

    assert report.paths(Outcome.SKIPPED_EXISTING) == [dists["wheel"]]
    assert report.paths(Outcome.UPLOADED) == [dists["sdist"]]


def test_a_distribution_failing_the_check_means_nothing_is_uploaded(
    index: index_server.IndexServer, dists: Dict[str, Path]
) -> None:
    with pytest.raises(UploadError) as info:
        upload([dists["wheel"], dists["bad_rst"]], _repo(index.url))
    message = str(info.value)
    assert message.startswith(f"{dists['bad_rst'].name} failed the metadata check")
    assert "nothing was uploaded" in message
    assert index.files() == [] and index.listed(NAME) == []


def test_dry_run_contacts_nothing(dists: Dict[str, Path]) -> None:
    with index_server.refused_url() as url:
        report = upload(
            [dists["wheel"], dists["sdist"]], Repository(url, USER, SECRET), dry_run=True
        )
    assert report.dry_run
    assert report.paths(Outcome.WOULD_UPLOAD) == [dists["wheel"], dists["sdist"]]


# ---------------------------------------------------------------------- checks


def test_check_passes_good_distributions(dists: Dict[str, Path]) -> None:
    results = check_distributions([dists["wheel"], dists["sdist"]])
    assert [r.ok for r in results] == [True, True]
    assert all(r.messages == () for r in results)


def test_check_reports_broken_markup_and_missing_metadata(dists: Dict[str, Path]) -> None:
    bad_rst, no_version = check_distributions([dists["bad_rst"], dists["no_version"]])
    assert not bad_rst.ok
    assert "would not render" in bad_rst.messages[0]
    assert "nosuchdirective" in bad_rst.messages[0]
    assert not no_version.ok
    assert "version" in no_version.messages[0].lower()


def test_check_reports_a_wheel_whose_record_does_not_match(
    dists: Dict[str, Path], tmp_path: Path
) -> None:
    tampered = tmp_path / dists["wheel"].name
    with zipfile.ZipFile(dists["wheel"]) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == f"{MODULE}/__init__.py":
                data = b"def answer():\n    return 41\n"
            dst.writestr(item, data)
    (result,) = check_distributions([tampered])
    assert not result.ok
    assert "does not match its RECORD hash" in result.messages[0]


def test_check_reports_missing_and_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    missing, unknown = check_distributions([tmp_path / "nope.whl", tmp_path / "notes.txt"])
    assert not missing.ok and "does not exist" in missing.messages[0]
    assert not unknown.ok and "not a wheel or an sdist" in unknown.messages[0]


# --------------------------------------------------------- repository resolution


def test_default_repository_is_pypi(home: Path) -> None:
    repo = resolve_repository(username="u", password="p", env={})
    assert repo.url == DEFAULT_REPOSITORY
    assert repo.name == "pypi"


def test_password_never_shows_in_repr_or_str() -> None:
    repo = Repository("https://example.invalid/legacy/", "__token__", TOKEN)
    assert TOKEN not in repr(repo)
    assert TOKEN not in str(repo)
    assert repo.describe() == "https://example.invalid/legacy/ as user __token__"


@pytest.mark.parametrize(
    ("kwargs", "env", "expected"),
    [
        pytest.param(
            {"repository_url": "https://explicit/"},
            {
                "MATURIN_REPOSITORY_URL": "https://maturin/",
                "TWINE_REPOSITORY_URL": "https://twine/",
            },
            "https://explicit/",
            id="explicit-url-wins",
        ),
        pytest.param(
            {"repository": "testpypi"},
            {"MATURIN_REPOSITORY_URL": "https://maturin/"},
            TEST_REPOSITORY,
            id="explicit-name-beats-env-url",
        ),
        pytest.param(
            {},
            {
                "MATURIN_REPOSITORY_URL": "https://maturin/",
                "TWINE_REPOSITORY_URL": "https://twine/",
            },
            "https://maturin/",
            id="maturin-env-beats-twine-env",
        ),
        pytest.param({}, {"MATURIN_REPOSITORY": "testpypi"}, TEST_REPOSITORY, id="maturin-name"),
        pytest.param({}, {"TWINE_REPOSITORY_URL": "https://twine/"}, "https://twine/", id="twine"),
        pytest.param(
            {},
            {"MATURIN_REPOSITORY_URL": "", "TWINE_REPOSITORY": "testpypi"},
            TEST_REPOSITORY,
            id="empty-env-is-unset",
        ),
    ],
)
def test_repository_url_precedence(
    home: Path, kwargs: Dict[str, str], env: Dict[str, str], expected: str
) -> None:
    repo = resolve_repository(username="u", password="p", env=env, **kwargs)  # type: ignore[arg-type]
    assert repo.url == expected


@pytest.mark.parametrize(
    ("kwargs", "env", "expected"),
    [
        pytest.param(
            {"username": "cli", "password": "cli-pw"},
            {"MATURIN_PYPI_TOKEN": TOKEN, "MATURIN_USERNAME": "m", "MATURIN_PASSWORD": "m-pw"},
            ("cli", "cli-pw"),
            id="explicit-wins",
        ),
        pytest.param(
            {},
            {"MATURIN_PYPI_TOKEN": TOKEN, "MATURIN_USERNAME": "m", "MATURIN_PASSWORD": "m-pw"},
            ("__token__", TOKEN),
            id="token-beats-maturin-user",
        ),
        pytest.param(
            {},
            {
                "MATURIN_USERNAME": "m",
                "MATURIN_PASSWORD": "m-pw",
                "TWINE_USERNAME": "t",
                "TWINE_PASSWORD": "t-pw",
            },
            ("m", "m-pw"),
            id="maturin-beats-twine",
        ),
        pytest.param(
            {}, {"TWINE_USERNAME": "t", "TWINE_PASSWORD": "t-pw"}, ("t", "t-pw"), id="twine"
        ),
        pytest.param(
            {"username": "cli"},
            {"MATURIN_PYPI_TOKEN": TOKEN, "TWINE_PASSWORD": "t-pw"},
            ("cli", "t-pw"),
            id="explicit-user-turns-off-token",
        ),
        pytest.param(
            {"repository_url": "https://urluser:url%40pw@index.example/legacy/"},
            {"TWINE_USERNAME": "t", "TWINE_PASSWORD": "t-pw"},
            ("urluser", "url@pw"),
            id="credentials-in-the-url",
        ),
    ],
)
def test_credential_precedence(
    home: Path, kwargs: Dict[str, str], env: Dict[str, str], expected: tuple
) -> None:
    repo = resolve_repository(non_interactive=True, env=env, **kwargs)  # type: ignore[arg-type]
    assert (repo.username, repo.password) == expected
    assert "@" not in repo.url


def _write_pypirc(path: Path) -> Path:
    path.write_text(
        "[distutils]\nindex-servers =\n    pypi\n    private\n\n"
        "[pypi]\nusername = __token__\npassword = pypi-from-pypirc\n\n"
        "[private]\nrepository = https://private.example/legacy/\n"
        "username = carol\npassword = carol-pw\n"
    )
    return path


def test_pypirc_section_gives_url_and_credentials(home: Path) -> None:
    config = _write_pypirc(home / "custom.pypirc")
    repo = resolve_repository(repository="private", config_file=config, env={})
    assert (repo.url, repo.username, repo.password, repo.name) == (
        "https://private.example/legacy/",
        "carol",
        "carol-pw",
        "private",
    )


def test_default_pypirc_gives_pypi_credentials_below_the_environment(home: Path) -> None:
    _write_pypirc(home / ".pypirc")
    repo = resolve_repository(env={})
    assert (repo.url, repo.username, repo.password) == (
        DEFAULT_REPOSITORY,
        "__token__",
        "pypi-from-pypirc",
    )
    repo = resolve_repository(env={"TWINE_PASSWORD": "env-wins"})
    assert repo.password == "env-wins"


def test_pypirc_credentials_apply_to_a_matching_repository_url(home: Path) -> None:
    _write_pypirc(home / ".pypirc")
    repo = resolve_repository(repository_url="https://private.example/legacy", env={})
    assert (repo.username, repo.password) == ("carol", "carol-pw")


def test_unknown_repository_name_lists_the_known_ones(home: Path) -> None:
    with pytest.raises(UploadError) as info:
        resolve_repository(repository="foo", env={})
    assert str(info.value) == (
        f"Repository 'foo' is not defined in {home / '.pypirc'} (known: pypi, testpypi)."
    )
    config = _write_pypirc(home / "custom.pypirc")
    with pytest.raises(UploadError) as info:
        resolve_repository(env={"MATURIN_REPOSITORY": "foo"}, config_file=config)
    assert str(info.value) == (
        f"Repository 'foo' is not defined in {config} (known: private, pypi)."
    )


def test_missing_explicit_config_file_is_an_error(home: Path) -> None:
    with pytest.raises(UploadError, match="does not exist"):
        resolve_repository(config_file=home / "nope.pypirc", username="u", password="p", env={})


def test_no_credentials_when_non_interactive_names_the_variables(home: Path) -> None:
    with pytest.raises(UploadError) as info:
        resolve_repository(non_interactive=True, env={})
    assert str(info.value) == (
        f"No credentials for {DEFAULT_REPOSITORY}: set MATURIN_PYPI_TOKEN (or MATURIN_USERNAME "
        "and MATURIN_PASSWORD, or TWINE_USERNAME and TWINE_PASSWORD), or add them to ~/.pypirc."
    )
    with pytest.raises(UploadError, match=r"No password for user bob .*MATURIN_PASSWORD"):
        resolve_repository(env={"MATURIN_NON_INTERACTIVE": "1", "MATURIN_USERNAME": "bob"})


def test_bad_repository_url_is_refused(home: Path) -> None:
    with pytest.raises(UploadError, match="is not an http"):
        resolve_repository(repository_url="ftp://index.example/", username="u", password="p")


# ---------------------------------------------------------------------- the CLI


def _cli(args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "maturin_nox", "upload", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_cli_uploads_with_a_token_from_the_environment_and_never_prints_it(
    tmp_path: Path, dists: Dict[str, Path]
) -> None:
    with index_server.run_pypiserver(tmp_path / "index", users={"__token__": TOKEN}) as index:
        env = _clean_env(tmp_path, MATURIN_PYPI_TOKEN=TOKEN)
        done = _cli(
            ["--repository-url", index.url, "-v", str(dists["wheel"]), str(dists["sdist"])], env
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"✨ Uploaded {dists['wheel'].name} to {index.url}",
            f"✨ Uploaded {dists['sdist'].name} to {index.url}",
        ]
        assert "answered 200" in done.stderr  # -v really shows the exchange
        assert TOKEN not in done.stdout + done.stderr
        assert index.files() == sorted([dists["wheel"].name, dists["sdist"].name])

        again = _cli(["--repository-url", index.url, "--skip-existing", str(dists["wheel"])], env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"⏭️  Skipped {dists['wheel'].name}")


def test_cli_wrong_password_fails_in_one_line_without_the_password(
    index: index_server.IndexServer, dists: Dict[str, Path], tmp_path: Path
) -> None:
    wrong = "N0t-The-Right-0ne"
    done = _cli(
        ["--repository-url", index.url, "-u", USER, "-p", wrong, "-v", str(dists["wheel"])],
        _clean_env(tmp_path),
    )
    assert done.returncode == 1
    assert wrong not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"💥 maturin-nox failed: The index at {index.url} refused the credentials "
        f"for user {USER} (HTTP 403)."
    )


def test_cli_dry_run_reads_pypirc_and_names_the_missing_variable(
    tmp_path: Path, dists: Dict[str, Path]
) -> None:
    config = _write_pypirc(tmp_path / "my.pypirc")
    done = _cli(
        ["-r", "private", "--config-file", str(config), "--dry-run", str(dists["wheel"])],
        _clean_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"🔍 Would upload {dists['wheel'].name} to https://private.example/legacy/ as user carol"
    )
    assert "carol-pw" not in done.stdout + done.stderr

    done = _cli(["--non-interactive", str(dists["wheel"])], _clean_env(tmp_path))
    assert done.returncode == 1
    assert "set MATURIN_PYPI_TOKEN" in done.stderr


def test_missing_credentials_are_prompted_for_on_a_terminal(tmp_path: Path) -> None:
    import pty

    script = (
        "from maturin_nox.upload import resolve_repository\n"
        "r = resolve_repository(repository_url='https://index.example/legacy/', env={})\n"
        "print('RESULT', r.username, r.password == 'typed-secret')\n"
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal session whose stdin is the pty
        os.environ["HOME"] = str(tmp_path)
        os.execv(sys.executable, [sys.executable, "-c", script])
    output = b""
    answers = [b"bob\n", b"typed-secret\n"]
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        prompt = b"Username for" if len(answers) == 2 else b"Password for"
        if answers and prompt in output:
            os.write(fd, answers.pop(0))
    os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert "Username for https://index.example/legacy/" in text
    assert "Password for bob at https://index.example/legacy/" in text
    assert "RESULT bob True" in text
    assert "typed-secret" not in text  # getpass turned the terminal's echo off
