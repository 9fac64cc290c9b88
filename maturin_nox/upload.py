"""Publishing distributions: where to (repository and credentials), are they fit, upload.

Resolution follows maturin and twine: explicit arguments, then maturin's
``MATURIN_*`` variables, then twine's ``TWINE_*`` variables, then ``~/.pypirc``,
then (only on a terminal) a prompt. The metadata check and the upload itself
are twine's own code; this module only decides what to call and turns every
failure into one sentence that never carries a password or token.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import getpass
import io
import logging
import os
import re
import socket
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Callable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

from .archives import check_sdist
from .errors import UploadError, WheelError
from .wheel import read_wheel

if TYPE_CHECKING:
    from requests import Response
    from twine.package import PackageFile
    from twine.repository import Repository as TwineRepository

T = TypeVar("T")

__all__ = [
    "DEFAULT_REPOSITORY",
    "TEST_REPOSITORY",
    "CheckResult",
    "FileResult",
    "Outcome",
    "Repository",
    "UploadReport",
    "check_distributions",
    "resolve_repository",
    "upload",
]

log = logging.getLogger("maturin_nox")

DEFAULT_REPOSITORY = "https://upload.pypi.org/legacy/"
TEST_REPOSITORY = "https://test.pypi.org/legacy/"
_BUILTIN_REPOSITORIES = {"pypi": DEFAULT_REPOSITORY, "testpypi": TEST_REPOSITORY}
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
_TRUE = {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Repository:
    """A package index upload URL with the credentials to use there."""

    url: str
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    name: Optional[str] = None
    ca_cert: Optional[str] = None
    client_cert: Optional[str] = None

    def describe(self) -> str:
        """The URL and user, safe to print (``https://... as user __token__``)."""
        who = f"user {self.username}" if self.username else "no user"
        return f"{self.url} as {who}"


@dataclass(frozen=True)
class CheckResult:
    """The verdict of the metadata check on one distribution file."""

    path: Path
    ok: bool
    messages: Tuple[str, ...] = ()


class Outcome(str, enum.Enum):
    """What happened to one file of an upload."""

    UPLOADED = "uploaded"
    SKIPPED_EXISTING = "skipped-existing"
    WOULD_UPLOAD = "would-upload"


@dataclass(frozen=True)
class FileResult:
    """One distribution file and what happened to it."""

    path: Path
    outcome: Outcome


@dataclass(frozen=True)
class UploadReport:
    """Where an upload went and, per file, what happened."""

    repository: Repository
    files: Tuple[FileResult, ...]
    dry_run: bool = False

    def paths(self, outcome: Outcome) -> List[Path]:
        """The files that had the given outcome, in upload order."""
        return [f.path for f in self.files if f.outcome is outcome]


# ------------------------------------------------------------- repository resolution


def _env_value(env: Mapping[str, str], name: str) -> Optional[str]:
    """An environment variable's value, with empty meaning unset (as CI secrets expand)."""
    value = env.get(name)
    return value if value else None


def _pick_target(
    repository: Optional[str], repository_url: Optional[str], env: Mapping[str, str]
) -> Tuple[Optional[str], Optional[str]]:
    """The (name, url) asked for: the first source naming either wins, a URL over a name."""
    layers = [
        (repository, repository_url),
        (_env_value(env, "MATURIN_REPOSITORY"), _env_value(env, "MATURIN_REPOSITORY_URL")),
        (_env_value(env, "TWINE_REPOSITORY"), _env_value(env, "TWINE_REPOSITORY_URL")),
    ]
    for name, url in layers:
        if url:
            return None, url
        if name:
            return name, None
    return "pypi", None


def _split_userinfo(url: str) -> Tuple[str, Optional[str], Optional[str]]:
    """Check an upload URL and take any ``user:password@`` out of it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UploadError(f"The repository URL {_sanitize_url(url)!r} is not an http(s) URL.")
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    user = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    return clean, user, password


def _sanitize_url(url: str) -> str:
    """A URL with any user info masked, for messages."""
    return re.sub(r"(?<=://)[^/@]*@", "********@", url)


def _default_config_file() -> Path:
    return Path(os.path.expanduser("~/.pypirc"))


def _read_pypirc(path: Path, explicit: bool) -> dict[str, dict[str, Optional[str]]]:
    """The repositories a .pypirc defines, through twine's own parser."""
    import configparser

    from twine import exceptions as twine_exceptions
    from twine.utils import get_config

    if not path.is_file():
        if explicit:
            raise UploadError(f"The config file {path} does not exist.")
        return {name: {"repository": url} for name, url in _BUILTIN_REPOSITORIES.items()}
    try:
        return dict(get_config(str(path)))
    except configparser.Error:
        # Never quote the parser's text: it may hold a password.
        raise UploadError(f"{path} is not a valid .pypirc file.") from None
    except (OSError, twine_exceptions.TwineException):
        raise UploadError(f"Cannot read {path}.") from None


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _config_section(
    config: Mapping[str, Mapping[str, Optional[str]]], name: Optional[str], url: str
) -> Mapping[str, Optional[str]]:
    """The .pypirc section for a name, or the one whose URL is the given one."""
    if name is not None:
        return config[name]
    for section in config.values():
        if section.get("repository") and _same_url(str(section["repository"]), url):
            return section
    return {}


def _truthy(env: Mapping[str, str], *names: str) -> bool:
    return any((env.get(n) or "").strip().lower() in _TRUE for n in names)


def _missing_credentials(url: str, username: Optional[str], config_file: Path) -> UploadError:
    """The error naming what to set when credentials are missing and prompting is off."""
    if username is None:
        return UploadError(
            f"No credentials for {url}: set MATURIN_PYPI_TOKEN (or MATURIN_USERNAME and "
            "MATURIN_PASSWORD, or TWINE_USERNAME and TWINE_PASSWORD), "
            f"or add them to {_display_path(config_file)}."
        )
    return UploadError(
        f"No password for user {username} at {url}: set MATURIN_PASSWORD (or TWINE_PASSWORD), "
        f"or add it to {_display_path(config_file)}."
    )


def _display_path(path: Path) -> str:
    """``~/.pypirc`` for the default file, the path itself otherwise."""
    return "~/.pypirc" if path == _default_config_file() else str(path)


def _prompt_username(url: str) -> str:
    """Ask for a user name on the terminal (the prompt goes to stderr, not stdout)."""
    sys.stderr.write(f"Username for {url}: ")
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def resolve_repository(
    *,
    repository: Optional[str] = None,
    repository_url: Optional[str] = None,
    username: Optional[str] = None,
    password: Optional[str] = None,
    non_interactive: bool = False,
    config_file: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Repository:
    """Decide the upload URL and credentials from arguments, environment, .pypirc or a prompt."""
    env = os.environ if env is None else env
    path = Path(config_file).expanduser() if config_file else _default_config_file()
    name, url = _pick_target(repository, repository_url, env)
    config = _read_pypirc(path, explicit=config_file is not None)
    url_user: Optional[str] = None
    url_password: Optional[str] = None
    if name is not None:
        if name not in config:
            known = ", ".join(sorted(config))
            raise UploadError(f"Repository {name!r} is not defined in {path} (known: {known}).")
        configured = config[name].get("repository")
        if not configured:
            raise UploadError(f"Repository {name!r} in {path} has no 'repository' URL.")
        url = str(configured)
    assert url is not None
    url, url_user, url_password = _split_userinfo(url)
    section = _config_section(config, name, url)

    token = _env_value(env, "MATURIN_PYPI_TOKEN")
    # maturin lets the token win over user names from the environment, but an
    # explicit other user name means the caller wants password authentication.
    use_token = token is not None and username in (None, "__token__")
    layers: List[Tuple[Optional[str], Optional[str]]] = [
        (username, password),
        (url_user, url_password),
        ("__token__", token) if use_token else (None, None),
        (_env_value(env, "MATURIN_USERNAME"), _env_value(env, "MATURIN_PASSWORD")),
        (_env_value(env, "TWINE_USERNAME"), _env_value(env, "TWINE_PASSWORD")),
        (section.get("username"), section.get("password")),
    ]
    # Field by field, as twine does: a user name from one place may pair with
    # a password from the next.
    user = next((u for u, _ in layers if u is not None), None)
    secret = next((p for _, p in layers if p is not None), None)

    if user is None or secret is None:
        interactive = (
            not non_interactive
            and not _truthy(env, "MATURIN_NON_INTERACTIVE", "TWINE_NON_INTERACTIVE")
            and sys.stdin is not None
            and sys.stdin.isatty()
        )
        if not interactive:
            raise _missing_credentials(url, user, path)
        if user is None:
            user = _prompt_username(url)
        secret = getpass.getpass(f"Password for {user} at {url}: ")
    return Repository(
        url=url,
        username=user,
        password=secret,
        name=name,
        ca_cert=section.get("ca_cert"),
        client_cert=section.get("client_cert"),
    )


# ---------------------------------------------------------------------- the check


def _is_distribution(path: Path) -> bool:
    return path.name.endswith(_DIST_SUFFIXES)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_one(path: Path) -> CheckResult:
    """Check one file: safe members and RECORD hashes, then twine's metadata and rendering check."""
    from twine import exceptions as twine_exceptions
    from twine.commands import check as twine_check

    if not path.is_file():
        return CheckResult(path, False, (f"{path} does not exist.",))
    if not _is_distribution(path):
        return CheckResult(path, False, (f"{path.name} is not a wheel or an sdist.",))
    messages: List[str] = []
    try:
        # Our own reader first: twine's opens archives with fewer checks.
        if path.name.endswith(".whl"):
            read_wheel(path)
        else:
            check_sdist(path)
    except WheelError as exc:
        return CheckResult(path, False, (str(exc),))
    stream = twine_check._WarningStream()
    try:
        warnings, ok = twine_check._check_file(str(path), stream)
    except twine_exceptions.TwineException as exc:
        return CheckResult(path, False, (f"{path.name}: {_one_line(str(exc))}",))
    except (OSError, ValueError, EOFError) as exc:
        return CheckResult(path, False, (f"{path.name} cannot be read: {_one_line(str(exc))}",))
    messages += [f"{path.name}: {w}" for w in warnings]
    if not ok:
        messages.insert(
            0,
            f"{path.name}: the long description has markup errors and would not render "
            f"on PyPI: {_one_line(str(stream))}",
        )
    return CheckResult(path, ok, tuple(messages))


def check_distributions(paths: Sequence[Union[str, Path]]) -> List[CheckResult]:
    """Check each distribution as ``twine check`` does, plus RECORD hashes of wheels."""
    return [_check_one(Path(p)) for p in paths]


# --------------------------------------------------------------------- the upload


def _secret_forms(repository: Repository) -> List[str]:
    """Every spelling of the password that could end up in text: raw, quoted, basic auth."""
    if not repository.password:
        return []
    pw = repository.password
    basic = f"{repository.username or ''}:{pw}".encode()
    forms = {
        pw,
        urllib.parse.quote(pw, safe=""),
        urllib.parse.quote_plus(pw),
        base64.b64encode(basic).decode(),
        base64.b64encode(basic).decode().rstrip("="),
    }
    return sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)


def _scrub(text: str, repository: Repository) -> str:
    """The text with every form of the password replaced by asterisks."""
    for secret in _secret_forms(repository):
        text = text.replace(secret, "********")
    return text


class _ForwardToDebug(logging.Handler):
    """Sends a library's log records to our logger at debug level, password scrubbed."""

    def __init__(self, repository: Repository) -> None:
        super().__init__()
        self.repository = repository

    def emit(self, record: logging.LogRecord) -> None:
        text = _scrub(record.getMessage(), self.repository)
        log.debug("%s: %s", record.name.split(".")[0], text)


# twine logs and prints progress; urllib3 warns on every connection retry.
# Without this, both would reach the terminal through logging's last resort.
_MUTED_LOGGERS = {"twine": logging.DEBUG, "urllib3": logging.WARNING}


@contextlib.contextmanager
def _twine_muted(repository: Repository) -> Iterator[None]:
    """Keep twine and urllib3 from printing: their output becomes our debug logs."""
    handler = _ForwardToDebug(repository)
    saved = []
    for name, level in _MUTED_LOGGERS.items():
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(level)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            yield
    finally:
        for logger, propagate, old_level in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(old_level)
        for line in captured.getvalue().splitlines():
            if line.strip():
                log.debug("twine: %s", _scrub(line.strip(), repository))


def _connection_reason(exc: BaseException) -> str:
    """A few words saying why a connection failed, from the exception chain."""
    import requests

    seen: List[BaseException] = []
    todo: List[BaseException] = [exc]
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.append(cur)
        todo += [a for a in cur.args if isinstance(a, BaseException)]
        todo += [c for c in (cur.__cause__, cur.__context__) if c is not None]
        reason = getattr(cur, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    text = " ".join(str(e) for e in seen)
    if any(isinstance(e, ConnectionRefusedError) for e in seen) or "Connection refused" in text:
        return "connection refused"
    if any(isinstance(e, socket.gaierror) for e in seen) or "resolve" in text.lower():
        return "the host name does not resolve"
    if any(isinstance(e, requests.exceptions.SSLError) for e in seen):
        return "the TLS connection failed"
    if any(isinstance(e, (requests.exceptions.Timeout, TimeoutError)) for e in seen):
        return "the connection timed out"
    if any(isinstance(e, ConnectionResetError) for e in seen) or "reset" in text.lower():
        return "the connection was reset"
    return "the connection failed"


def _server_says(response: Response, repository: Repository) -> str:
    """The index's own explanation of a refusal: its reason phrase or the text of its page."""
    from http import HTTPStatus

    status = response.status_code
    reason = response.reason or ""
    try:
        standard = HTTPStatus(status).phrase
    except ValueError:
        standard = ""
    said = reason if reason and reason != standard else ""
    if not said:
        text = response.text or ""
        body = re.search(r"<pre>(.*?)</pre>", text, re.S | re.I)
        text = body.group(1) if body else re.sub(r"<[^>]+>", " ", text)
        said = _one_line(text.replace("&#039;", "'").replace("&quot;", '"'))
        if said.lower().startswith(standard.lower()) and standard:
            said = said[len(standard) :].strip(" :.-")
    said = _scrub(said, repository)[:300]
    return said or reason


def _already_exists(status: int, response_text: str) -> bool:
    """Whether a refusal means the file is already on the index (pypiserver, PyPI)."""
    return status == 409 or (status == 400 and "already exist" in response_text.lower())


def _before(uploaded: Sequence[Path]) -> str:
    """`` (uploaded before it: a.whl, b.whl)`` or nothing."""
    if not uploaded:
        return ""
    return f" ({', '.join(p.name for p in uploaded)} had been uploaded before it)"


def _http_error(
    response: Response, path: Path, repository: Repository, uploaded: Sequence[Path], more: bool
) -> UploadError:
    """The one-sentence error for an index's refusal of one file."""
    status = response.status_code
    url = repository.url
    after = "; nothing after it was uploaded" if more else ""
    if status in (401, 403):
        who = f"for user {repository.username}" if repository.username else "without a user"
        if uploaded:
            return UploadError(
                f"The index at {url} refused the credentials {who} (HTTP {status}) while "
                f"uploading {path.name}{after}{_before(uploaded)}."
            )
        return UploadError(f"The index at {url} refused the credentials {who} (HTTP {status}).")
    if 500 <= status < 600:
        return UploadError(
            f"The package index at {url} failed with HTTP {status} while uploading "
            f"{path.name}; nothing after it was uploaded{_before(uploaded)}."
        )
    if _already_exists(status, f"{response.reason} {response.text}"):
        return UploadError(
            f"{path.name} already exists on the package index at {url} (HTTP {status}); "
            f"use --skip-existing to skip files that are already there{after}"
            f"{_before(uploaded)}."
        )
    said = _server_says(response, repository)
    because = f": {said.rstrip('.')}" if said else ""
    return UploadError(
        f"The package index at {url} rejected {path.name} with HTTP {status}{because}"
        f"{after}{_before(uploaded)}."
    )


def _call(
    fn: Callable[[PackageFile], T], package: PackageFile
) -> Tuple[Optional[T], Optional[str]]:
    """Run one network call; return (result, None) or (None, why the connection failed)."""
    import requests

    try:
        return fn(package), None
    except requests.exceptions.RequestException as exc:
        return None, _connection_reason(exc)


def _twine_repository(repository: Repository) -> TwineRepository:
    """twine's uploader for the repository, quiet and with the configured certificates."""
    from twine.repository import Repository as TwineRepository

    repo = TwineRepository(
        repository.url, repository.username, repository.password, disable_progress_bar=True
    )
    repo.set_certificate_authority(repository.ca_cert)
    repo.set_client_certificate(repository.client_cert)
    return repo


def _refuse_failed_checks(results: Sequence[CheckResult]) -> None:
    """Raise if any distribution failed its check, after logging every complaint."""
    failed = [r for r in results if not r.ok]
    for result in results:
        for message in result.messages:
            (log.warning if not result.ok else log.info)(message)
    if failed:
        first = failed[0]
        detail = first.messages[0] if first.messages else f"{first.path.name} is invalid"
        count = (
            f"{first.path.name} failed"
            if len(failed) == 1
            else f"{len(failed)} of {len(results)} distributions failed"
        )
        raise UploadError(
            f"{count} the metadata check, so nothing was uploaded: {detail.rstrip('.')}."
        )


def upload(
    paths: Sequence[Union[str, Path]],
    repository: Repository,
    *,
    skip_existing: bool = False,
    dry_run: bool = False,
) -> UploadReport:
    """Check every distribution, then upload them in order through twine."""
    files = [Path(p) for p in paths]
    if not files:
        raise UploadError("No distributions to upload were given.")
    _refuse_failed_checks(check_distributions(files))
    if dry_run:
        for path in files:
            log.debug("Would upload %s to %s", path.name, repository.describe())
        return UploadReport(
            repository, tuple(FileResult(p, Outcome.WOULD_UPLOAD) for p in files), dry_run=True
        )
    results: List[FileResult] = []
    error: Optional[UploadError] = None
    with _twine_muted(repository):
        repo = _twine_repository(repository)
        try:
            error = _upload_all(repo, files, repository, skip_existing, results)
        finally:
            repo.close()
    if error is not None:
        # Raised here, outside every except block, so no library exception
        # (and nothing it may quote) rides along as __context__; scrubbed once
        # more in case an index echoed the password somewhere we quoted.
        raise UploadError(_scrub(error.message, repository))
    return UploadReport(repository, tuple(results))


def _upload_all(
    repo: TwineRepository,
    files: Sequence[Path],
    repository: Repository,
    skip_existing: bool,
    results: List[FileResult],
) -> Optional[UploadError]:
    """Upload the files one by one, appending results; the first failure stops and is returned."""
    from twine.package import PackageFile

    uploaded: List[Path] = []
    for index, path in enumerate(files):
        more = index + 1 < len(files)
        package = PackageFile.from_filename(str(path), None)
        log.debug("Uploading %s to %s", path.name, repository.describe())
        if skip_existing:
            found, why = _call(repo.package_is_uploaded, package)
            if why is not None:
                return UploadError(
                    f"Cannot reach the package index at {repository.url}: {why}{_before(uploaded)}."
                )
            if found:
                results.append(FileResult(path, Outcome.SKIPPED_EXISTING))
                continue
        response, why = _call(repo.upload, package)
        if why is not None:
            if uploaded:
                return UploadError(
                    f"Cannot reach the package index at {repository.url}: {why} while uploading "
                    f"{path.name}; nothing after it was uploaded{_before(uploaded)}."
                )
            return UploadError(f"Cannot reach the package index at {repository.url}: {why}.")
        assert response is not None
        status = response.status_code
        answer = f"{status} {response.reason}: {_server_says(response, repository)}"
        log.debug("%s answered %s", repository.url, _scrub(answer, repository))
        if response.is_redirect:
            location = _sanitize_url(response.headers.get("location", ""))
            return UploadError(
                f"The package index at {repository.url} redirected the upload of {path.name} "
                f"to {location}; check the repository URL{_before(uploaded)}."
            )
        if skip_existing and _already_exists(status, f"{response.reason} {response.text}"):
            results.append(FileResult(path, Outcome.SKIPPED_EXISTING))
            continue
        if not 200 <= status < 300:
            return _http_error(response, path, repository, uploaded, more)
        uploaded.append(path)
        results.append(FileResult(path, Outcome.UPLOADED))
    return None
