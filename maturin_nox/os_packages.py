"""Which OS package provides a file: ``dpkg``, ``rpm`` or ``apk``, asked as auditwheel asks them.

Used for the SBOM of libraries a repair grafts into a wheel. A file no package
manager claims (built locally, or on a system without one) is left out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

__all__ = ["ProvidedBy", "distro_id", "purl_encode", "which_provides"]

_OS_RELEASE_ID = re.compile(r'^ID=(?:"([^"]*)"|(.*?))\s*$', re.MULTILINE)
_DPKG_SEARCH = re.compile(r"^([^:]+):")
_DPKG_VERSION = re.compile(r"^Version:\s*(\S+)", re.MULTILINE)
_APK_OWNER = re.compile(r" is owned by (.+)-(\d[^\s]*)$")


def purl_encode(value: str) -> str:
    """Percent-encode a Package URL component, byte by byte (letters, digits and ``-._`` stay)."""
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        keep = (char.isascii() and char.isalnum()) or char in "-._"
        out.append(char if keep else f"%{byte:02X}")
    return "".join(out)


@dataclass(frozen=True)
class ProvidedBy:
    """The OS package a file belongs to."""

    package_type: str  # deb, rpm, apk
    name: str
    version: str
    distro: Optional[str]

    @property
    def purl(self) -> str:
        """``pkg:<type>[/<distro>]/<name>@<version>``."""
        distro = f"{purl_encode(self.distro)}/" if self.distro else ""
        return (
            f"pkg:{self.package_type}/{distro}{purl_encode(self.name)}@{purl_encode(self.version)}"
        )


def _run(*cmd: str) -> Optional[str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _dpkg(path: str, distro: str) -> Optional[ProvidedBy]:
    found = _run("dpkg", "-S", path)
    match = _DPKG_SEARCH.match(found or "")
    if match is None:
        return None
    status = _run("dpkg", "-s", match.group(1))
    version = _DPKG_VERSION.search(status or "")
    if version is None:
        return None
    return ProvidedBy("deb", match.group(1), version.group(1), distro)


def _rpm(path: str, distro: str) -> Optional[ProvidedBy]:
    found = _run("rpm", "-qf", "--queryformat", "%{NAME} %{VERSION} %{RELEASE}", path)
    parts = (found or "").strip().split(" ", 2)
    if len(parts) != 3:
        return None
    return ProvidedBy("rpm", parts[0], f"{parts[1]}-{parts[2]}", distro)


def _apk(path: str, distro: str) -> Optional[ProvidedBy]:
    match = _APK_OWNER.search((_run("apk", "info", "--who-owns", path) or "").strip())
    if match is None:
        return None
    return ProvidedBy("apk", match.group(1), match.group(2), distro)


def distro_id(os_release: Path = Path("/etc/os-release")) -> Optional[str]:
    """The ``ID=`` of ``/etc/os-release`` (debian, ubuntu, alpine, ...)."""
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError:
        return None
    match = _OS_RELEASE_ID.search(text)
    return (match.group(1) or match.group(2)) if match else None


def which_provides(paths: Sequence[Path]) -> Dict[Path, ProvidedBy]:
    """The OS package of each file the package manager knows (by the file's real path)."""
    distro = distro_id()
    if distro is None:
        return {}
    ask: Optional[Callable[[str, str], Optional[ProvidedBy]]] = None
    for tool, provider in (("dpkg", _dpkg), ("rpm", _rpm), ("apk", _apk)):
        if shutil.which(tool):
            ask = provider
            break
    if ask is None:
        return {}
    out: Dict[Path, ProvidedBy] = {}
    for path in paths:
        provided = ask(os.path.realpath(path), distro)
        if provided is not None:
            out[path] = provided
    return out
