"""Package index servers on loopback for upload tests: a real pypiserver, a faulty one.

Import it from any test module (``import index_server``): pytest puts ``tests/``
on ``sys.path`` because the folder has no ``__init__.py``.
"""

from __future__ import annotations

import base64
import contextlib
import html.parser
import http.client
import http.server
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

__all__ = [
    "FailingProxy",
    "FaultServer",
    "IndexServer",
    "free_port",
    "refused_url",
    "run_failing_proxy",
    "run_fault_server",
    "run_pypiserver",
    "uploaded_filename",
]

_HOST = "127.0.0.1"
_START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def refused_url() -> Iterator[str]:
    """An http URL whose port refuses connections for as long as the block runs."""
    # A bound socket that never listens keeps the port ours, and the kernel
    # answers every connection attempt to it with a reset: no race with others.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        yield f"http://{_HOST}:{sock.getsockname()[1]}/"


@dataclass(frozen=True)
class IndexServer:
    """A running pypiserver: where to upload, where pip reads, where files land."""

    url: str
    simple_url: str
    packages_dir: Path
    users: Dict[str, str] = field(default_factory=dict)

    def files(self) -> List[str]:
        """The names of the distribution files the index holds on disk, sorted."""
        return sorted(p.name for p in self.packages_dir.iterdir() if p.is_file())

    def listed(self, project: str) -> List[str]:
        """The file names the index serves for a project over HTTP (its simple page), sorted."""
        try:
            with urllib.request.urlopen(f"{self.simple_url}{project}/", timeout=10) as page:
                text = page.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise
        links = _Links()
        links.feed(text)
        return sorted(links.names)


class _Links(html.parser.HTMLParser):
    """The link texts of a PEP 503 simple page: one distribution file name each."""

    def __init__(self) -> None:
        super().__init__()
        self.names: List[str] = []
        self._in_link = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._in_link = tag == "a"

    def handle_endtag(self, tag: str) -> None:
        self._in_link = False

    def handle_data(self, data: str) -> None:
        if self._in_link and data.strip():
            self.names.append(data.strip())


def uploaded_filename(body: bytes) -> Optional[str]:
    """The distribution file name a twine upload (multipart/form-data) carries."""
    match = re.search(rb'name="content"; filename="([^"]+)"', body)
    return match.group(1).decode() if match else None


def _write_htpasswd(path: Path, users: Dict[str, str]) -> None:
    """Write an Apache htpasswd file with sha256-crypt hashes (no bcrypt needed)."""
    with warnings.catch_warnings():
        # passlib imports the deprecated ``crypt`` module; not our concern here.
        warnings.simplefilter("ignore", DeprecationWarning)
        from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]

    ht = HtpasswdFile(str(path), new=True, default_scheme="sha256_crypt")
    for user, password in users.items():
        ht.set_password(user, password)
    ht.save()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``url`` until it answers; fail with the server's log if it dies or hangs."""
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pypiserver exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if not with 200
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pypiserver did not answer at {url}:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def run_pypiserver(
    root: Path, *, users: Optional[Dict[str, str]] = None, overwrite: bool = False
) -> Iterator[IndexServer]:
    """Run pypiserver on a free loopback port, uploads protected when ``users`` are given."""
    root = Path(root)
    packages = root / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    log = root / "pypiserver.log"
    port = free_port()
    cmd = [sys.executable, "-m", "pypiserver", "run", "-i", _HOST, "-p", str(port)]
    cmd += ["--disable-fallback", "--server", "wsgiref"]
    if users:
        htpasswd = root / "htpasswd"
        _write_htpasswd(htpasswd, users)
        cmd += ["-a", "update", "-P", str(htpasswd)]
    else:
        cmd += ["-a", ".", "-P", "."]
    if overwrite:
        cmd.append("--overwrite")
    cmd.append(str(packages))
    with log.open("wb") as log_fp:
        proc = subprocess.Popen(cmd, stdout=log_fp, stderr=subprocess.STDOUT)
    base = f"http://{_HOST}:{port}/"
    try:
        _wait_until_up(base + "health", proc, log)
        yield IndexServer(base, base + "simple/", packages, dict(users or {}))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class FaultServer:
    """A loopback server answering every POST with one status; counts the POSTs."""

    url: str
    status: int
    echo_credentials: bool = False
    posts: int = 0
    received: List[str] = field(default_factory=list)  # the file name of every POST


def _fault_handler(server_state: FaultServer) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler class bound to one FaultServer's state."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            # Read the whole body first: answering mid-upload makes the client
            # see a reset connection instead of our status.
            body = _read_body(self)
            server_state.posts += 1
            server_state.received.append(uploaded_filename(body) or "?")
            said = f"fault server says {server_state.status}"
            if server_state.echo_credentials:
                # A careless index quoting the credentials back: clients must scrub them.
                auth = self.headers.get("Authorization", "")
                decoded = base64.b64decode(auth.split()[-1]).decode() if auth else ""
                said += f" for {auth} ({decoded})"
            body = said.encode()
            reason = said if server_state.echo_credentials else None
            self.send_response(server_state.status, reason)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest's captured output clean

    return Handler


@contextlib.contextmanager
def run_fault_server(status: int, *, echo_credentials: bool = False) -> Iterator[FaultServer]:
    """Serve on a free loopback port, answering every POST with ``status``.

    With ``echo_credentials`` the reason phrase and body quote the request's
    basic-auth header and the password in it, as a leaky index might.
    """
    state = FaultServer("", status, echo_credentials)
    server = http.server.ThreadingHTTPServer((_HOST, 0), _fault_handler(state))
    state.url = f"http://{_HOST}:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _read_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    """The whole request body (read first: answering mid-upload resets the connection)."""
    length = int(handler.headers.get("Content-Length") or 0)
    chunks: List[bytes] = []
    while length > 0:
        chunk = handler.rfile.read(min(length, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


@dataclass
class FailingProxy:
    """A loopback proxy in front of a real index that refuses the upload of one file."""

    url: str
    fail_on: str
    status: int
    received: List[str] = field(default_factory=list)  # every POSTed file name, in order


def _proxy_handler(
    state: FailingProxy, index: IndexServer
) -> type[http.server.BaseHTTPRequestHandler]:
    upstream = urllib.parse.urlsplit(index.url)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _forward(self, body: Optional[bytes]) -> None:
            conn = http.client.HTTPConnection(upstream.hostname or _HOST, upstream.port, timeout=60)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
            }
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            finally:
                conn.close()
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = _read_body(self)
            name = uploaded_filename(body) or "?"
            state.received.append(name)
            if name != state.fail_on:
                self._forward(body)
                return
            said = f"proxy refuses {name}".encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(said)))
            self.end_headers()
            self.wfile.write(said)

        def do_GET(self) -> None:
            self._forward(None)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def run_failing_proxy(
    index: IndexServer, fail_on: str, status: int = 500
) -> Iterator[FailingProxy]:
    """Serve a proxy to ``index`` on a free loopback port that answers ``status`` for one file."""
    state = FailingProxy("", fail_on, status)
    server = http.server.ThreadingHTTPServer((_HOST, 0), _proxy_handler(state, index))
    state.url = f"http://{_HOST}:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
