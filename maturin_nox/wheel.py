"""Writing and reading wheel archives (PEP 427): RECORD, WHEEL, atomic output.

A wheel is written to a temporary file in the output folder and renamed into
place only once it is complete, so an interrupted or failed build never leaves
a broken ``.whl`` behind. Entries are sorted and carry a fixed timestamp
(``SOURCE_DATE_EPOCH`` when set) so that the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import bz2
import csv
import hashlib
import io
import os
import re
import stat
import tempfile
import time
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Union

from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name

from . import faults
from .archives import DEFAULT_LIMITS, Limits, read_zip
from .atomic import publish_mode
from .compression import RELEASE, Compression
from .errors import WheelError

if TYPE_CHECKING:
    from .payload import WheelPayload

__all__ = [
    "WheelContents",
    "WheelWriter",
    "compress_tags",
    "data_dir_name",
    "dist_info_name",
    "escape_name",
    "expand_tags",
    "parse_wheel_filename",
    "read_wheel",
    "record_hash",
    "wheel_filename",
    "write_payload",
]

# 1980-01-01, the earliest date a zip entry can carry.
_ZIP_EPOCH = 315532800


def _zip_date_time(explicit: Optional[int] = None) -> tuple[int, int, int, int, int, int]:
    """The timestamp every entry gets: ``explicit``, else SOURCE_DATE_EPOCH, else 1980-01-01."""
    raw = str(explicit) if explicit is not None else os.environ.get("SOURCE_DATE_EPOCH")
    epoch = _ZIP_EPOCH
    if raw:
        try:
            epoch = max(int(raw), _ZIP_EPOCH)
        except ValueError:
            raise WheelError(
                f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}."
            ) from None
    t = time.gmtime(epoch)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def escape_name(name: str) -> str:
    """A distribution name as it appears in wheel and dist-info file names."""
    return re.sub(r"[-_.]+", "_", canonicalize_name(name))


def dist_info_name(name: str, version: str) -> str:
    """The ``{name}-{version}.dist-info`` folder name."""
    return f"{escape_name(name)}-{version}.dist-info"


def compress_tags(tags: Iterable[Union[str, Tag]]) -> str:
    """Join tags into the compressed form used in file names (``cp38.cp39-abi3-x``)."""
    interps: list[str] = []
    abis: list[str] = []
    plats: list[str] = []
    for tag in tags:
        parts = str(tag).split("-")
        if len(parts) != 3:
            raise WheelError(f"{tag!r} is not a wheel tag of the form interpreter-abi-platform.")
        for part, seen in zip(parts, (interps, abis, plats)):
            for item in part.split("."):
                if item not in seen:
                    seen.append(item)
    return "-".join(".".join(x) for x in (interps, abis, plats))


def expand_tags(tag: str) -> list[str]:
    """Every single tag a compressed tag string stands for, in a stable order."""
    return [str(t) for t in parse_tag(tag)]


def data_dir_name(name: str, version: str) -> str:
    """The ``{name}-{version}.data`` folder name."""
    return f"{escape_name(name)}-{version}.data"


def wheel_filename(name: str, version: str, tags: Iterable[Union[str, Tag]]) -> str:
    """The PEP 427 file name of a wheel."""
    return f"{escape_name(name)}-{version}-{compress_tags(tags)}.whl"


@dataclass(frozen=True)
class WheelName:
    """The parts of a wheel file name."""

    name: str
    version: str
    build: Optional[str]
    tag: str


def parse_wheel_filename(filename: str) -> WheelName:
    """Split a wheel file name into name, version, build tag and compressed tag."""
    base = PurePosixPath(filename).name
    if not base.endswith(".whl"):
        raise WheelError(f"{filename} is not a wheel: the name does not end in .whl.", filename)
    parts = base[:-4].split("-")
    if len(parts) not in (5, 6):
        raise WheelError(f"{filename} is not a valid wheel file name.", filename)
    build = parts[2] if len(parts) == 6 else None
    return WheelName(parts[0], parts[1], build, "-".join(parts[-3:]))


def record_hash(data: bytes) -> str:
    """The ``sha256=...`` hash of a RECORD line."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _check_arcname(arcname: str) -> str:
    """Refuse archive names that would escape the install folder."""
    path = PurePosixPath(arcname)
    if arcname.startswith("/") or ".." in path.parts or "\\" in arcname or not arcname:
        raise WheelError(f"{arcname!r} is not a safe path inside a wheel.")
    return str(path)


class WheelWriter:
    """Collects files for one wheel, then writes it atomically on :meth:`finish`."""

    def __init__(
        self,
        out_dir: Union[str, Path],
        name: str,
        version: str,
        tags: Sequence[Union[str, Tag]],
        *,
        generator: Optional[str] = None,
        root_is_purelib: bool = False,
        compression: Compression = RELEASE,
        date_epoch: Optional[int] = None,
    ) -> None:
        from . import __version__

        self.date_epoch = date_epoch  # the entries' timestamp (else SOURCE_DATE_EPOCH, else 1980)
        self.out_dir = Path(out_dir)
        self.name = name
        self.version = version
        self.tags = [str(t) for tag in tags for t in expand_tags(str(tag))]
        self.generator = generator or f"maturin-nox ({__version__})"
        self.root_is_purelib = root_is_purelib
        self.compression = compression
        self.dist_info = dist_info_name(name, version)
        self.data_dir = data_dir_name(name, version)
        self.filename = wheel_filename(name, version, self.tags)
        self._entries: dict[str, tuple[bytes, bool]] = {}

    @property
    def path(self) -> Path:
        """Where the finished wheel will be."""
        return self.out_dir / self.filename

    def __contains__(self, arcname: str) -> bool:
        return arcname in self._entries

    def arcnames(self) -> list[str]:
        """The archive names added so far."""
        return sorted(self._entries)

    def add_bytes(self, arcname: str, data: Union[bytes, str], *, executable: bool = False) -> None:
        """Add a file from memory; a later add of the same name replaces it."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._entries[_check_arcname(arcname)] = (data, executable)

    def add_file(
        self, arcname: str, path: Union[str, Path], *, executable: Optional[bool] = None
    ) -> None:
        """Add a file from disk, keeping its executable bit unless told otherwise."""
        p = Path(path)
        try:
            data = p.read_bytes()
            mode = p.stat().st_mode
        except OSError as exc:
            raise WheelError(f"Cannot read {p} for the wheel: {exc.strerror}.", p) from None
        if executable is None:
            executable = bool(mode & stat.S_IXUSR)
        self.add_bytes(arcname, data, executable=executable)

    def add_dist_info(self, filename: str, data: Union[bytes, str]) -> None:
        """Add a file inside the ``.dist-info`` folder."""
        self.add_bytes(f"{self.dist_info}/{filename}", data)

    def wheel_file(self) -> str:
        """The text of the WHEEL file."""
        lines = [
            "Wheel-Version: 1.0",
            f"Generator: {self.generator}",
            f"Root-Is-Purelib: {'true' if self.root_is_purelib else 'false'}",
        ]
        lines += [f"Tag: {tag}" for tag in self.tags]
        return "\n".join(lines) + "\n"

    def _ordered(self) -> list[str]:
        # maturin's order: the payload, then the dist-info, each sorted by path component
        # ("pkg/x" before "pkg-1.0.data/y", where a plain sort puts "-" first), RECORD last.
        prefix = self.dist_info + "/"
        record = prefix + "RECORD"
        names = sorted((n for n in self._entries if n != record), key=_components)
        return [n for n in names if not n.startswith(prefix)] + [
            n for n in names if n.startswith(prefix)
        ]

    def finish(self) -> Path:
        """Write WHEEL and RECORD, then the archive to a temporary file, then rename it.

        Large members are compressed in a thread pool while the small ones are
        written (zlib and bz2 release the GIL); the archive is byte for byte the
        one a serial write of the same members would give.
        """
        self.add_dist_info("WHEEL", self.wheel_file())
        self.out_dir.mkdir(parents=True, exist_ok=True)
        date_time = _zip_date_time(self.date_epoch)
        record = io.StringIO()
        writer = csv.writer(record, lineterminator="\n")
        order = self._ordered()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.filename}.", suffix=".tmp", dir=self.out_dir)
        method = self.compression.zip_method
        try:
            with _Compressors(self.compression, [self._entries[n][0] for n in order]) as pool:
                with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", method) as zf:
                    rows: List[List[str]] = []
                    for index, arcname in enumerate(order):
                        if index == 1:
                            faults.point("build:writing")
                        data, executable = self._entries[arcname]
                        info = _zipinfo(arcname, date_time, executable, self.compression)
                        _write_member(zf, info, data, self.compression, pool.compressed(index))
                        rows.append([arcname, record_hash(data), str(len(data))])
                    # RECORD lists every file by path component (dist-info among the rest),
                    # as maturin
                    rows.sort(key=lambda row: _components(row[0]))
                    writer.writerows(rows)
                    record_name = f"{self.dist_info}/RECORD"
                    writer.writerow([record_name, "", ""])
                    info = _zipinfo(record_name, date_time, False, self.compression)
                    _write_member(zf, info, record.getvalue().encode(), self.compression, None)
            publish_mode(tmp)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path


def _components(arcname: str) -> list[str]:
    """The sort key of a path as maturin (Rust's ``PathBuf``) orders them: by component."""
    return arcname.split("/")


# Members at least this big are compressed in the pool; smaller ones cost less than a hand-off.
_POOL_MIN = 1 << 20


def _compress(data: bytes, compression: Compression) -> bytes:
    """``data`` compressed exactly as zipfile's own compressor for the method would do it."""
    if compression.method == "bzip2":
        bz = bz2.BZ2Compressor(compression.level)
        return bz.compress(data) + bz.flush()
    z = zlib.compressobj(compression.level, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush()


class _Compressors:
    """Compresses the large members of an archive ahead of the writer, in threads."""

    def __init__(self, compression: Compression, members: Sequence[bytes]) -> None:
        self._futures: Dict[int, Future[bytes]] = {}
        self._pool: Optional[ThreadPoolExecutor] = None
        if compression.method not in ("deflated", "bzip2"):
            return
        large = [i for i, data in enumerate(members) if len(data) >= _POOL_MIN]
        if not large:
            return
        workers = max(1, min(len(large), os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="maturin-nox-zip")
        for i in large:
            self._futures[i] = self._pool.submit(_compress, members[i], compression)

    def compressed(self, index: int) -> Optional[bytes]:
        """The member's compressed bytes if the pool made them (waits for them), else None."""
        future = self._futures.pop(index, None)
        return future.result() if future is not None else None

    def __enter__(self) -> _Compressors:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            for future in self._futures.values():
                future.cancel()
            self._pool.shutdown(wait=True)


class _Ready:
    """Stands in for zipfile's compressor when the member was compressed ahead."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def compress(self, _data: bytes) -> bytes:
        out, self._data = self._data, b""
        return out

    def flush(self) -> bytes:
        return b""


def _write_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    data: bytes,
    compression: Compression,
    ready: Optional[bytes],
) -> None:
    """Write one member as ``ZipFile.writestr`` does, zip64 records when asked."""
    info.file_size = len(data)
    with zf.open(info, "w", force_zip64=compression.large_file) as dest:
        # zipfile has no public way to write precompressed bytes: hand its writer a
        # compressor that returns them (the CRC and sizes still come from ``data``).
        if ready is not None and getattr(dest, "_compressor", None) is not None:
            setattr(dest, "_compressor", _Ready(ready))  # noqa: B010  (a private attribute)
        dest.write(data)


def write_payload(
    payload: WheelPayload,
    out_dir: Union[str, Path],
    *,
    compression: Compression = RELEASE,
    date_epoch: Optional[int] = None,
) -> Path:
    """Write a payload as a wheel in ``out_dir`` (atomically) and return its path."""
    writer = WheelWriter(
        out_dir,
        payload.name,
        payload.version,
        payload.tags,
        compression=compression,
        date_epoch=date_epoch,
    )
    for arcname in sorted(payload.files):
        source = payload.files[arcname]
        executable = arcname in payload.executables
        if isinstance(source, bytes):
            writer.add_bytes(arcname, source, executable=executable)
        else:
            writer.add_file(arcname, source, executable=True if executable else None)
    for relpath, data in payload.dist_info.items():
        writer.add_dist_info(relpath, data)
    return writer.finish()


def _zipinfo(
    arcname: str,
    date_time: tuple[int, int, int, int, int, int],
    executable: bool,
    compression: Compression = RELEASE,
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=date_time)
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = compression.zip_method
    # the level attribute is _compresslevel before Python 3.13, compress_level from it
    level_attr = (
        "compress_level" if "compress_level" in zipfile.ZipInfo.__slots__ else "_compresslevel"
    )
    setattr(info, level_attr, compression.zip_level)
    info.create_system = 3  # unix, so the mode bits are honoured
    return info


@dataclass(frozen=True)
class WheelContents:
    """A wheel read back and verified: its names, files and dist-info."""

    path: Path
    name: str
    version: str
    tag: str
    dist_info: str
    files: dict[str, bytes]
    executables: frozenset[str]

    def text(self, filename: str) -> str:
        """A file of the dist-info folder as text; an error if it is not UTF-8."""
        name = f"{self.dist_info}/{filename}"
        try:
            return self.files[name].decode("utf-8")
        except UnicodeDecodeError:
            raise WheelError(f"{self.path}: {name} is not UTF-8 text.", self.path) from None

    def metadata(self) -> str:
        """The METADATA text."""
        return self.text("METADATA")

    def wheel_tags(self) -> list[str]:
        """The ``Tag:`` lines of the WHEEL file."""
        text = self.text("WHEEL")
        return [
            line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")
        ]


def read_wheel(
    path: Union[str, Path], *, verify_record: bool = True, limits: Limits = DEFAULT_LIMITS
) -> WheelContents:
    """Open a wheel, refuse unsafe or oversized entries and, by default, check every RECORD hash."""
    p = Path(path)
    parsed = parse_wheel_filename(p.name)
    files: dict[str, bytes] = {}
    executables: set[str] = set()
    for member in read_zip(p, limits):
        if member.mode & 0o111:
            executables.add(member.name)
        files[member.name] = member.data
    dist_infos = {
        n.split("/", 1)[0] for n in files if n.split("/", 1)[0].endswith(".dist-info") and "/" in n
    }
    if len(dist_infos) != 1:
        raise WheelError(
            f"{p} must hold exactly one .dist-info folder, found {len(dist_infos)}.", p
        )
    dist_info = dist_infos.pop()
    for required in ("METADATA", "WHEEL", "RECORD"):
        if f"{dist_info}/{required}" not in files:
            raise WheelError(f"{p} has no {dist_info}/{required}.", p)
    if verify_record:
        _verify_record(p, dist_info, files)
    return WheelContents(
        p, parsed.name, parsed.version, parsed.tag, dist_info, files, frozenset(executables)
    )


# The hashes a RECORD may use: hashlib's guaranteed ones without md5 and sha1, as pip.
_RECORD_HASHES = frozenset(
    {"sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512"}
    | {"blake2b", "blake2s"}
)


def _record_rows(path: Path, record_name: str, data: bytes) -> list[list[str]]:
    """The rows of a RECORD file, or an error naming what is wrong with it."""
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except UnicodeDecodeError:
        raise WheelError(f"{path}: {record_name} is not UTF-8 text.", path) from None
    except csv.Error as exc:
        raise WheelError(f"{path}: {record_name} is not valid CSV: {exc}.", path) from None


def _verify_record(path: Path, dist_info: str, files: dict[str, bytes]) -> None:
    record_name = f"{dist_info}/RECORD"
    rows = _record_rows(path, record_name, files[record_name])
    listed: set[str] = set()
    for row in rows:
        if not row:
            continue
        if len(row) != 3:
            raise WheelError(f"{path}: RECORD has a malformed line {','.join(row)!r}.", path)
        name, digest, size = row
        listed.add(name)
        if name == record_name or name.endswith(".dist-info/RECORD.jws"):
            continue
        if name not in files:
            raise WheelError(
                f"{path}: RECORD lists {name!r}, which the archive does not hold.", path
            )
        data = files[name]
        algo = digest.split("=", 1)[0] if "=" in digest else "sha256"
        if algo not in _RECORD_HASHES:
            raise WheelError(f"{path}: RECORD uses an unknown hash {algo!r} for {name!r}.", path)
        h = hashlib.new(algo, data).digest()
        expected = f"{algo}=" + base64.urlsafe_b64encode(h).rstrip(b"=").decode()
        wrong_size = bool(size) and (not size.strip().isdecimal() or int(size) != len(data))
        if digest != expected or wrong_size:
            raise WheelError(f"{path}: {name!r} does not match its RECORD hash.", path)
    missing = sorted(set(files) - listed)
    if missing:
        raise WheelError(f"{path}: {missing[0]!r} is in the archive but not in RECORD.", path)
