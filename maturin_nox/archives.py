"""Reading archives someone else may have made: wheels and sdists, zip and tar.

Nothing in an archive is trusted. Every member name is checked before it is
used (no absolute names, no ``..``, no backslashes, no drive letters, no
duplicates); sizes are checked from the headers before any data is read, and
data is read with a cap, so a header that lies cannot blow up memory; links,
device files and other special members are refused, except that an unpacked
sdist gets a copy of the file a link inside it points at. Every refusal is one
:class:`~maturin_nox.errors.ArchiveError` sentence naming the archive and the
member, and :func:`unpack_sdist` leaves nothing behind when it refuses.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Dict, Iterator, List, Optional, Protocol, Union, cast

from .errors import ArchiveError

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "ZipMember",
    "check_sdist",
    "read_zip",
    "safe_member_name",
    "unpack_sdist",
]

StrPath = Union[str, "os.PathLike[str]"]

_MiB = 1 << 20
_GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """How large an archive may get once unpacked, and how much it may expand."""

    member: int = 2 * _GiB  # bytes of one member
    total: int = 8 * _GiB  # bytes of all members together
    ratio: int = 100  # unpacked size over packed size ...
    ratio_floor: int = 16 * _MiB  # ... checked once the unpacked size passes this
    members: int = 200_000  # entries in one archive
    header: int = _MiB  # one tar header record (pax headers, GNU long names)


DEFAULT_LIMITS = Limits()

# Errors the standard library's zip, tar and decompressors raise on damaged input.
_DAMAGED = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    UnicodeError,
)
_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(archive: Union[str, Path], member: str, reason: str) -> ArchiveError:
    """``{archive} holds {reason}.`` with the member's name (quoted) where reason says {member}."""
    # not str.format: the reason quotes names and link targets from the archive, braces and all
    before, _, after = reason.partition("{member}")
    return ArchiveError(f"{os.fspath(archive)} holds {before}{member!r}{after}.", archive)


def safe_member_name(archive: Union[str, Path], name: str) -> str:
    """The member name, normalised (``a//b`` -> ``a/b``), or an error saying why it is unsafe."""
    why: Optional[str] = None
    if not name.strip("/") or "\x00" in name:
        why = "it is empty" if "\x00" not in name else "it holds a NUL character"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        why = "it holds a control character"
    elif "\\" in name:
        why = "it holds a backslash"
    elif name.startswith("/"):
        why = "it is absolute"
    elif _DRIVE.match(name):
        why = "it names a drive"
    elif ".." in PurePosixPath(name).parts:
        why = "it climbs out of the archive with `..`"
    normalised = str(PurePosixPath(name))
    if why is None and normalised == ".":
        why = "it names the archive's root"
    if why is not None:
        raise _refuse(archive, name, "an unsafe path {member}: " + why)
    return normalised


def _check_sizes(
    archive: Path, name: str, size: int, packed: Optional[int], total: int, limits: Limits
) -> int:
    """The running total with this member added; refuses what is beyond the limits."""
    if size < 0:
        raise _refuse(archive, name, "{member}, whose header declares a negative size")
    if size > limits.member:
        raise _refuse(
            archive,
            name,
            f"{{member}}, which declares {size} bytes, beyond the limit of {limits.member}",
        )
    if packed is not None and size > limits.ratio_floor and size > limits.ratio * max(packed, 1):
        raise _refuse(
            archive,
            name,
            f"{{member}}, which would expand {size // max(packed, 1)} times "
            f"(a zip bomb; the limit is {limits.ratio})",
        )
    total += size
    if total > limits.total:
        raise _refuse(
            archive,
            name,
            f"more than {limits.total} bytes once unpacked, beyond the limit, at {{member}}",
        )
    return total


# --- zip -------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipMember:
    """A regular file read from a zip archive, under its name in the archive."""

    name: str
    data: bytes
    mode: int  # permission bits from the unix attributes; 0 when there are none


def _zip_mode(archive: Path, info: zipfile.ZipInfo) -> int:
    """The permission bits of a regular member; refuses links and special files."""
    # The unix mode, where pip and other installers look for it, whatever create_system says.
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise _refuse(archive, info.filename, "a symbolic link {member}, which it may not")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(archive, info.filename, "a device or special file {member}")
    return stat.S_IMODE(mode)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist.", path) from None
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder, not a zip archive.", path) from None
    except _DAMAGED:
        raise ArchiveError(f"{path} is not a zip archive (or it is damaged).", path) from None


def _zip_infos(path: Path, zf: zipfile.ZipFile, limits: Limits) -> List[zipfile.ZipInfo]:
    """The file members, every header checked before any data is read."""
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise ArchiveError(
            f"{path} has {len(infos)} members, beyond the limit of {limits.members}.", path
        )
    seen: Dict[str, str] = {}
    files: List[zipfile.ZipInfo] = []
    total = 0
    for info in infos:
        name = safe_member_name(path, info.filename)
        if name in seen:
            raise _refuse(path, info.filename, "the member {member} twice")
        seen[name] = info.filename
        _zip_mode(path, info)
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise _refuse(path, info.filename, "an encrypted member {member}")
        total = _check_sizes(path, info.filename, info.file_size, info.compress_size, total, limits)
        files.append(info)
    return files


def _read_zip_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as handle:
            # zipfile stops at the declared size and checks the CRC; the cap is
            # there should it ever not.
            data = handle.read(info.file_size + 1)
    except _DAMAGED as exc:
        reason = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
        raise _refuse(path, info.filename, f"a damaged member {{member}} ({reason})") from None
    if len(data) != info.file_size:
        raise _refuse(
            path,
            info.filename,
            f"{{member}}, whose header declares {info.file_size} bytes but which holds "
            f"{'more' if len(data) > info.file_size else len(data)}",
        )
    return data


def read_zip(path: StrPath, limits: Limits = DEFAULT_LIMITS) -> List[ZipMember]:
    """Every regular file of a zip archive, after checking every name, type and size."""
    p = Path(path)
    with _open_zip(p) as zf:
        infos = _zip_infos(p, zf, limits)
        return [
            ZipMember(info.filename, _read_zip_member(p, zf, info), _zip_mode(p, info))
            for info in infos
        ]


# --- tar -------------------------------------------------------------------------


class _Stream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...


class _Capped(io.RawIOBase):
    """A decompressed stream that refuses to grow past the limits, by size and by ratio."""

    def __init__(self, archive: Path, stream: _Stream, packed: int, limits: Limits) -> None:
        super().__init__()
        self.archive = archive
        self.stream = stream
        self.packed = packed
        self.limits = limits
        self.position = 0
        # The total of member data plus headers and padding, which tar adds per member.
        self.cap = limits.total + limits.members * 2 * tarfile.BLOCKSIZE + _MiB
        self.member = "?"  # the last member header read, for the messages

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def _advance(self, to: int) -> None:
        if to > self.cap:
            raise ArchiveError(
                f"{self.archive} is more than {self.limits.total} bytes once unpacked, "
                f"beyond the limit, at {self.member!r}.",
                self.archive,
            )
        if to > self.limits.ratio_floor and to > self.limits.ratio * max(self.packed, 1):
            raise ArchiveError(
                f"{self.archive} expands more than {self.limits.ratio} times "
                f"(a compression bomb), at {self.member!r}.",
                self.archive,
            )

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0 or size > self.limits.header:
            # tarfile reads headers whole; member data is read here in chunks
            raise ArchiveError(
                f"{self.archive} has a header record beyond {self.limits.header} bytes "
                f"after {self.member!r}.",
                self.archive,
            )
        self._advance(self.position + size)
        data = self.stream.read(size)
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self.position + offset}.get(whence)
        if target is None or target < 0:
            raise OSError("unsupported seek")
        if target > self.position:
            self._advance(target)
        self.position = self.stream.seek(target)
        return self.position


def _decompressed(raw: IO[bytes]) -> _Stream:
    """The tar stream inside a plain, gzip, bzip2 or xz file."""
    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(raw, "rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw, "rb")
    return raw


@dataclass
class _TarScan:
    """What a walk through a tar archive found (every name normalised)."""

    files: Dict[str, int]  # name -> mode
    dirs: List[str]
    links: Dict[str, str]  # link name -> the name it points at


def _tar_open(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist.", path) from None
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder, not an archive.", path) from None
    except OSError as exc:
        raise ArchiveError(f"Cannot read {path}: {exc.strerror}.", path) from None


def _link_target(path: Path, info: tarfile.TarInfo, name: str) -> str:
    """Where a link member points, inside the archive; refuses a link pointing out."""
    kind = "symbolic link" if info.issym() else "hard link"
    target = info.linkname
    if (
        not target
        or "\\" in target
        or "\x00" in target
        or target.startswith("/")
        or _DRIVE.match(target)
    ):
        raise _refuse(path, info.name, f"a {kind} {{member}} pointing outside it ({target!r})")
    # A symbolic link is relative to its folder; a hard link to the archive's root.
    joined = posixpath.join(posixpath.dirname(name), target) if info.issym() else target
    resolved = posixpath.normpath(joined)
    if resolved == ".." or resolved.startswith("../") or resolved in ("", "."):
        raise _refuse(path, info.name, f"a {kind} {{member}} pointing outside it ({target!r})")
    return resolved


def _scan_tar(path: Path, limits: Limits, dest: Optional[Path] = None) -> _TarScan:
    """Walk every member of a tar archive, checking each header before its data.

    With ``dest``, regular files and folders are written under it as they come.
    """
    scan = _TarScan({}, [], {})
    seen: set[str] = set()
    total = 0
    count = 0
    with _tar_open(path) as raw:
        packed = os.fstat(raw.fileno()).st_size
        try:
            stream = _Capped(path, _decompressed(raw), packed, limits)
            with tarfile.open(fileobj=stream, mode="r:") as tar:
                for info in _members(tar):
                    count += 1
                    stream.member = info.name
                    if count > limits.members:
                        raise ArchiveError(
                            f"{path} has more than {limits.members} members, beyond the limit.",
                            path,
                        )
                    name = safe_member_name(path, info.name)
                    if name in seen:
                        raise _refuse(path, info.name, "the member {member} twice")
                    seen.add(name)
                    if info.isdir():
                        scan.dirs.append(name)
                        if dest is not None:
                            _make_dir(path, dest, name)
                    elif info.issym() or info.islnk():
                        scan.links[name] = _link_target(path, info, name)
                    elif info.isreg():
                        total = _check_sizes(path, info.name, info.size, None, total, limits)
                        scan.files[name] = info.mode
                        if dest is not None:
                            _write_member(path, dest, name, info, tar)
                    else:
                        raise _refuse(path, info.name, "a device or special file {member}")
        except ArchiveError:
            raise
        except _DAMAGED as exc:
            reason = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
            raise ArchiveError(
                f"{path} is not a readable tar archive (or it is damaged): {reason}.", path
            ) from None
    return scan


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members one by one, without tarfile keeping a list of them all."""
    while True:
        info = tar.next()
        if info is None:
            return
        cast(Any, tar).members.clear()  # bounded memory whatever the member count
        yield info


def _create(archive: Path, dest: Path, name: str, mode: int) -> IO[bytes]:
    """A new file for one member: it must not exist yet, and no link is followed."""
    target = dest / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        return os.fdopen(os.open(target, flags, 0o755 if mode & 0o111 else 0o644), "wb")
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        raise _refuse(archive, name, "{member}, which clashes with another member's path") from None


def _make_dir(archive: Path, dest: Path, name: str) -> None:
    try:
        (dest / name).mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _refuse(archive, name, "{member}, which clashes with another member's path") from None


def _write_member(
    archive: Path, dest: Path, name: str, info: tarfile.TarInfo, tar: tarfile.TarFile
) -> None:
    """Copy one regular member's data to disk in chunks, never more than it declared."""
    handle = tar.extractfile(info)
    if handle is None:
        raise _refuse(archive, info.name, "{member}, which cannot be read")
    with handle, _create(archive, dest, name, info.mode) as out:
        left = info.size
        while left > 0:
            chunk = handle.read(min(left, _MiB // 2))
            if not chunk:
                raise _refuse(archive, info.name, "{member}, which is cut short")
            out.write(chunk)
            left -= len(chunk)


def check_sdist(path: StrPath, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse an sdist (``.tar.gz``, other tars, ``.zip``) whose members are unsafe to unpack."""
    p = Path(path)
    if p.name.endswith(".zip"):
        with _open_zip(p) as zf:
            _zip_infos(p, zf, limits)
        return
    scan = _scan_tar(p, limits)
    _resolve_links(p, scan)
    _top_folder(p, scan)


def _resolve_links(path: Path, scan: _TarScan) -> Dict[str, str]:
    """For every link, the regular file it ends at (links to links are followed)."""
    resolved: Dict[str, str] = {}
    for link, first in scan.links.items():
        target, hops = first, 0
        while target in scan.links and hops < 40:
            target, hops = scan.links[target], hops + 1
        if target not in scan.files:
            raise _refuse(
                path, link, f"a link {{member}} to {target!r}, which is not a file in the archive"
            )
        resolved[link] = target
    return resolved


def _top_folder(path: Path, scan: _TarScan) -> str:
    """The one folder every member is in (``name-version``)."""
    names = [*scan.files, *scan.dirs, *scan.links]
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1 or not any("/" in n for n in names):
        raise ArchiveError(
            f"{path} is not an sdist: its members are not all inside one top folder.", path
        )
    return tops.pop()


def unpack_sdist(path: StrPath, into: StrPath, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Unpack a tar sdist (``.tar.gz``) into the new folder ``into``; return its top folder.

    Only regular files and folders are written (a link inside the archive to a
    file in it becomes a copy of that file), with plain 0644/0755 modes, and
    ``into`` must not exist yet. When anything is refused, ``into`` is removed
    again: nothing half-unpacked stays behind.
    """
    p = Path(path)
    dest = Path(into)
    if p.name.endswith(".zip"):
        raise ArchiveError(f"{p} is a zip file; only tar sdists (.tar.gz) are unpacked.", p)
    try:
        dest.mkdir(parents=True)
    except FileExistsError:
        raise ArchiveError(f"Cannot unpack {p} into {dest}: it exists already.", dest) from None
    except OSError as exc:
        raise ArchiveError(f"Cannot unpack {p} into {dest}: {exc.strerror}.", dest) from None
    try:
        scan = _scan_tar(p, limits, dest)
        top = _top_folder(p, scan)
        for link, target in _resolve_links(p, scan).items():
            with open(dest / target, "rb") as source, _create(
                p, dest, link, scan.files[target]
            ) as out:
                shutil.copyfileobj(source, out)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest / top
