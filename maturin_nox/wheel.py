"""Writing and reading wheel archives (PEP 427): RECORD, WHEEL, atomic output.

A wheel is written to a temporary file in the output folder and renamed into
place only once it is complete, so an interrupted or failed build never leaves
a broken ``.whl`` behind. Entries are sorted and carry a fixed timestamp
(``SOURCE_DATE_EPOCH`` when set) so that the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name

from . import faults
from .atomic import publish_mode
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


def _zip_date_time() -> tuple[int, int, int, int, int, int]:
    """The timestamp every entry gets: SOURCE_DATE_EPOCH when set, else 1980-01-01."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
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
    ) -> None:
        from . import __version__

        self.out_dir = Path(out_dir)
        self.name = name
        self.version = version
        self.tags = [str(t) for tag in tags for t in expand_tags(str(tag))]
        self.generator = generator or f"maturin-nox ({__version__})"
        self.root_is_purelib = root_is_purelib
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
        """Write WHEEL and RECORD, then the archive to a temporary file, then rename it."""
        self.add_dist_info("WHEEL", self.wheel_file())
        self.out_dir.mkdir(parents=True, exist_ok=True)
        date_time = _zip_date_time()
        record = io.StringIO()
        writer = csv.writer(record, lineterminator="\n")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.filename}.", suffix=".tmp", dir=self.out_dir)
        try:
            with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(
                raw, "w", compression=zipfile.ZIP_DEFLATED
            ) as zf:
                rows: list[list[str]] = []
                for index, arcname in enumerate(self._ordered()):
                    if index == 1:
                        faults.point("build:writing")
                    data, executable = self._entries[arcname]
                    zf.writestr(_zipinfo(arcname, date_time, executable), data)
                    rows.append([arcname, record_hash(data), str(len(data))])
                # RECORD lists every file by path component (dist-info among the rest), as maturin
                rows.sort(key=lambda row: _components(row[0]))
                writer.writerows(rows)
                record_name = f"{self.dist_info}/RECORD"
                writer.writerow([record_name, "", ""])
                zf.writestr(_zipinfo(record_name, date_time, False), record.getvalue())
            publish_mode(tmp)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path


def _components(arcname: str) -> list[str]:
    """The sort key of a path as maturin (Rust's ``PathBuf``) orders them: by component."""
    return arcname.split("/")


def write_payload(payload: WheelPayload, out_dir: Union[str, Path]) -> Path:
    """Write a payload as a wheel in ``out_dir`` (atomically) and return its path."""
    writer = WheelWriter(out_dir, payload.name, payload.version, payload.tags)
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
    arcname: str, date_time: tuple[int, int, int, int, int, int], executable: bool
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=date_time)
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
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

    def metadata(self) -> str:
        """The METADATA text."""
        return self.files[f"{self.dist_info}/METADATA"].decode("utf-8")

    def wheel_tags(self) -> list[str]:
        """The ``Tag:`` lines of the WHEEL file."""
        text = self.files[f"{self.dist_info}/WHEEL"].decode("utf-8")
        return [
            line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")
        ]


def read_wheel(path: Union[str, Path], *, verify_record: bool = True) -> WheelContents:
    """Open a wheel, refuse unsafe entries and, by default, check every RECORD hash."""
    p = Path(path)
    parsed = parse_wheel_filename(p.name)
    try:
        zf = zipfile.ZipFile(p)
    except FileNotFoundError:
        raise WheelError(f"{p} does not exist.", p) from None
    except (zipfile.BadZipFile, OSError):
        raise WheelError(f"{p} is not a wheel: it is not a zip archive.", p) from None
    files: dict[str, bytes] = {}
    executables: set[str] = set()
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            try:
                _check_arcname(name)
            except WheelError:
                raise WheelError(f"{p} holds an unsafe path {name!r}.", p) from None
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise WheelError(f"{p} holds a symbolic link {name!r}, which wheels may not.", p)
            if mode & 0o111:
                executables.add(name)
            files[name] = zf.read(info)
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


def _verify_record(path: Path, dist_info: str, files: dict[str, bytes]) -> None:
    record_name = f"{dist_info}/RECORD"
    rows = list(csv.reader(io.StringIO(files[record_name].decode("utf-8"))))
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
            raise WheelError(f"{path}: RECORD lists {name}, which the archive does not hold.", path)
        data = files[name]
        if not digest.startswith("sha256=") and digest:
            algo = digest.split("=", 1)[0]
            try:
                h = hashlib.new(algo, data).digest()
            except ValueError:
                raise WheelError(
                    f"{path}: RECORD uses an unknown hash {algo!r} for {name}.", path
                ) from None
            expected = f"{algo}=" + base64.urlsafe_b64encode(h).rstrip(b"=").decode()
        else:
            expected = record_hash(data)
        if digest != expected or (size and int(size) != len(data)):
            raise WheelError(f"{path}: {name} does not match its RECORD hash.", path)
    missing = sorted(set(files) - listed)
    if missing:
        raise WheelError(f"{path}: {missing[0]} is in the archive but not in RECORD.", path)
