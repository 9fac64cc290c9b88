"""Hostile archives: wheels and sdists built by hand to break their readers.

Each one must end in one ``MaturinNoxError`` sentence naming the archive and the
member, from ``audit``, ``repair``, the publish gate's audit, the upload check
and the sdist unpacker alike, with nothing written outside their folders (and,
for the unpacker and repair, nothing at all).
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import struct
import subprocess
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import index_server
import pytest

from maturin_nox.archives import Limits, check_sdist, read_zip, unpack_sdist
from maturin_nox.audit.decide import _graft
from maturin_nox.audit.repair import repair_wheel
from maturin_nox.audit.report import analyze_wheel
from maturin_nox.errors import ArchiveError, MaturinNoxError, UploadError, WheelError
from maturin_nox.gate import audit_wheel
from maturin_nox.upload import Repository, check_distributions, upload
from maturin_nox.wheel import WheelWriter, read_wheel, record_hash

WHEEL = "demo-1.0-py3-none-any.whl"
DIST_INFO = "demo-1.0.dist-info"
METADATA = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
MiB = 1 << 20

Entry = Tuple[Union[str, zipfile.ZipInfo], bytes]


# --- building hostile wheels ------------------------------------------------------


def _good_entries() -> List[Entry]:
    writer = WheelWriter("unused", "demo", "1.0", ["py3-none-any"], root_is_purelib=True)
    return [
        ("demo/__init__.py", b"x = 1\n"),
        (f"{DIST_INFO}/METADATA", METADATA.encode()),
        (f"{DIST_INFO}/WHEEL", writer.wheel_file().encode()),
    ]


def _record(entries: Sequence[Entry], listed: Optional[Sequence[Entry]] = None) -> Entry:
    rows = [
        f"{e[0] if isinstance(e[0], str) else e[0].filename},{record_hash(e[1])},{len(e[1])}"
        for e in (entries if listed is None else listed)
    ]
    return (f"{DIST_INFO}/RECORD", ("\n".join([*rows, f"{DIST_INFO}/RECORD,,"]) + "\n").encode())


def _zip(path: Path, entries: Sequence[Entry]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, as it should
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return path


def hostile_wheel(folder: Path, extra: Sequence[Entry], *, recorded: bool = True) -> Path:
    """A pure wheel plus ``extra`` members, listed in RECORD when ``recorded``."""
    entries = [*_good_entries(), *extra]
    return _zip(folder / WHEEL, [*entries, _record(entries if recorded else _good_entries())])


def _unix(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def _declare_size(path: Path, member: str, size: int) -> Path:
    """Rewrite the uncompressed size a member's local and central headers declare."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    local = info.header_offset
    struct.pack_into("<I", data, local + 22, size)
    central = data.find(b"PK\x01\x02")
    while central >= 0:  # the central record of this member (its name follows at +46)
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + length]) == member.encode():
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


# name -> (the wheel's extra members, recorded?, what the message must say)
HOSTILE_WHEELS: Dict[str, Callable[[Path], Tuple[Path, str, str]]] = {}


def _case(name: str) -> Callable[[Callable[[Path], Tuple[Path, str, str]]], None]:
    def register(make: Callable[[Path], Tuple[Path, str, str]]) -> None:
        HOSTILE_WHEELS[name] = make

    return register


@_case("absolute name")
def _absolute(folder: Path) -> Tuple[Path, str, str]:
    target = f"{folder.parent}/escaped.py"  # where an unpacker that trusts names would write
    return hostile_wheel(folder, [(target, b"boom")]), target, "absolute"


@_case("parent folder")
def _parent(folder: Path) -> Tuple[Path, str, str]:
    return (
        hostile_wheel(folder, [("demo/../../escaped.py", b"boom")]),
        "demo/../../escaped.py",
        "..",
    )


@_case("backslash")
def _backslash(folder: Path) -> Tuple[Path, str, str]:
    return hostile_wheel(folder, [("demo\\..\\..\\escaped.py", b"boom")]), "escaped.py", "backslash"


@_case("drive letter")
def _drive(folder: Path) -> Tuple[Path, str, str]:
    return hostile_wheel(folder, [("C:/escaped.py", b"boom")]), "C:/escaped.py", "drive"


@_case("symlink out")
def _symlink(folder: Path) -> Tuple[Path, str, str]:
    member = (_unix("demo/passwd", 0o120777), b"/etc/passwd")
    return hostile_wheel(folder, [member]), "demo/passwd", "symbolic link"


@_case("device file")
def _device(folder: Path) -> Tuple[Path, str, str]:
    member = (_unix("demo/null", stat.S_IFCHR | 0o666), b"")
    return hostile_wheel(folder, [member]), "demo/null", "device"


@_case("duplicate name")
def _duplicate(folder: Path) -> Tuple[Path, str, str]:
    return hostile_wheel(folder, [("demo/__init__.py", b"x = 2\n")]), "demo/__init__.py", "twice"


@_case("duplicate after normalising")
def _duplicate_normalised(folder: Path) -> Tuple[Path, str, str]:
    return hostile_wheel(folder, [("demo//__init__.py", b"x = 2\n")]), "demo//__init__.py", "twice"


@_case("record mismatch")
def _record_mismatch(folder: Path) -> Tuple[Path, str, str]:
    entries = _good_entries()
    tampered = [(n, b"x = 2\n" if n == "demo/__init__.py" else d) for n, d in entries]
    path = _zip(folder / WHEEL, [*tampered, _record(entries)])
    return path, "demo/__init__.py", "does not match its RECORD hash"


@_case("file missing from record")
def _unrecorded(folder: Path) -> Tuple[Path, str, str]:
    path = hostile_wheel(folder, [("demo/extra.py", b"y = 1\n")], recorded=False)
    return path, "demo/extra.py", "not in RECORD"


@_case("record lists a missing file")
def _phantom(folder: Path) -> Tuple[Path, str, str]:
    entries = _good_entries()
    listed = [*entries, ("demo/phantom.py", b"")]
    return (
        _zip(folder / WHEEL, [*entries, _record(entries, listed)]),
        "demo/phantom.py",
        "does not hold",
    )


@_case("record with a bad size")
def _bad_size(folder: Path) -> Tuple[Path, str, str]:
    entries = _good_entries()
    name, data = _record(entries)
    data = data.replace(b",6\n", b",six\n", 1)
    return _zip(folder / WHEEL, [*entries, (name, data)]), "demo/__init__.py", "RECORD"


@_case("record with a weak hash")
def _weak_hash(folder: Path) -> Tuple[Path, str, str]:
    entries = _good_entries()
    name, data = _record(entries)
    first = data.split(b",", 2)
    data = first[0] + b",md5=AAAA," + first[2]
    return _zip(folder / WHEEL, [*entries, (name, data)]), "demo/__init__.py", "md5"


@_case("record not utf-8")
def _record_bytes(folder: Path) -> Tuple[Path, str, str]:
    entries = _good_entries()
    path = _zip(folder / WHEEL, [*entries, (f"{DIST_INFO}/RECORD", b"\xff\xfe\x00junk")])
    return path, f"{DIST_INFO}/RECORD", "UTF-8"


@_case("declared size beyond the limit")
def _declared(folder: Path) -> Tuple[Path, str, str]:
    path = hostile_wheel(folder, [("demo/huge.bin", b"tiny")])
    return _declare_size(path, "demo/huge.bin", 0xFFFFFFF0), "demo/huge.bin", "beyond the limit"


@_case("compression bomb")
def _bomb(folder: Path) -> Tuple[Path, str, str]:
    # 64 MiB of zeros deflate to about 64 KiB: a ratio of a thousand
    return hostile_wheel(folder, [("demo/zeros.bin", bytes(64 * MiB))]), "demo/zeros.bin", "bomb"


@_case("header declaring less than the data")
def _short_header(folder: Path) -> Tuple[Path, str, str]:
    path = hostile_wheel(folder, [("demo/data.bin", b"y" * 4096)])
    return _declare_size(path, "demo/data.bin", 16), "demo/data.bin", "damaged"


@_case("overlapping members")
def _overlapping(folder: Path) -> Tuple[Path, str, str]:
    # two directory entries for one stored member: the start of an overlapping-files bomb
    path = hostile_wheel(folder, [("demo/a.bin", b"A" * 1000), ("demo/b.bin", b"B" * 1000)])
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        first = zf.getinfo("demo/a.bin").header_offset
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + length]) == b"demo/b.bin":
            struct.pack_into("<I", data, central + 42, first)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path, "demo/b.bin", "damaged"


def _snapshot(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(params=sorted(HOSTILE_WHEELS), ids=lambda n: n.replace(" ", "-"))
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Tuple[Path, str, str]:
    return HOSTILE_WHEELS[request.param](tmp_path / "in")


def _assert_one_sentence(message: str, wheel: Path, member: str, says: str) -> None:
    assert wheel.name in message, message
    assert member in message, message
    assert says in message, message
    assert "\n" not in message and message.endswith("."), message


def test_the_wheel_reader_refuses_it_naming_archive_and_member(
    hostile: Tuple[Path, str, str],
) -> None:
    wheel, member, says = hostile
    with pytest.raises(WheelError) as caught:
        read_wheel(wheel)
    _assert_one_sentence(str(caught.value), wheel, member, says)


def test_audit_and_repair_refuse_it_and_write_nothing(
    hostile: Tuple[Path, str, str], tmp_path: Path
) -> None:
    wheel, member, says = hostile
    before = _snapshot(tmp_path)
    with pytest.raises(MaturinNoxError) as caught:
        analyze_wheel(wheel)
    _assert_one_sentence(str(caught.value), wheel, member, says)
    with pytest.raises(MaturinNoxError) as caught:
        repair_wheel(wheel, tmp_path / "wheelhouse")
    _assert_one_sentence(str(caught.value), wheel, member, says)
    assert _snapshot(tmp_path) == before  # not even an empty wheelhouse
    assert not (tmp_path / "escaped.py").exists()


def test_the_gate_audit_and_the_upload_check_fail_it(hostile: Tuple[Path, str, str]) -> None:
    wheel, member, says = hostile
    result = audit_wheel(wheel)
    assert not result.ok
    _assert_one_sentence(result.problems[0], wheel, member, says)
    [checked] = check_distributions([wheel])
    assert not checked.ok
    _assert_one_sentence(checked.messages[0], wheel, member, says)


@pytest.mark.parametrize("case", ["absolute name", "symlink out", "compression bomb"])
def test_the_audit_command_fails_with_one_sentence(case: str, tmp_path: Path) -> None:
    wheel, member, says = HOSTILE_WHEELS[case](tmp_path / "in")
    proc = subprocess.run(
        [sys.executable, "-m", "maturin_nox", "audit", str(wheel)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("💥 maturin-nox failed: ")
    _assert_one_sentence(line, wheel, member, says)
    assert proc.stdout == ""


def test_a_lying_header_is_read_with_a_cap(tmp_path: Path) -> None:
    wheel, _, _ = HOSTILE_WHEELS["header declaring less than the data"](tmp_path)
    with zipfile.ZipFile(wheel) as zf:  # what the standard library alone gives back
        assert zf.getinfo("demo/data.bin").file_size == 16
    with pytest.raises(ArchiveError, match=r"damaged member 'demo/data\.bin'"):
        read_zip(wheel)


def test_limits_are_checked_before_reading(tmp_path: Path) -> None:
    wheel = hostile_wheel(tmp_path, [("demo/big.bin", os.urandom(3000))])
    with pytest.raises(ArchiveError, match=r"'demo/big\.bin', which declares 3000 bytes"):
        read_zip(wheel, Limits(member=2048))
    with pytest.raises(ArchiveError, match="more than 3000 bytes once unpacked"):
        read_zip(wheel, Limits(total=3000))
    with pytest.raises(ArchiveError, match="members, beyond the limit of 2"):
        read_zip(wheel, Limits(members=2))


def test_a_good_wheel_reads_back(tmp_path: Path) -> None:
    wheel = hostile_wheel(tmp_path, [("demo/data.bin", bytes(MiB))])  # compressible, but small
    contents = read_wheel(wheel)
    assert sorted(contents.files)[:2] == [
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/RECORD",
    ]


def test_a_graft_for_a_needed_path_stays_in_the_libs_folder(tmp_path: Path) -> None:
    library = tmp_path / "libevil.so.1"
    library.write_bytes(b"\x7fELF")
    graft = _graft("../../../../tmp/libevil.so.1", library, "demo.libs")
    assert graft.arcname.startswith("demo.libs/libevil-") and graft.arcname.endswith(".so.1")
    assert "/" not in graft.arcname[len("demo.libs/") :]


# --- hostile sdists ---------------------------------------------------------------

TOP = "demo-1.0"
PKG_INFO = METADATA.encode()


def _tar_member(
    name: str,
    data: bytes = b"",
    *,
    kind: bytes = tarfile.REGTYPE,
    linkname: str = "",
    mode: int = 0o644,
    pax: Optional[Dict[str, str]] = None,
) -> Tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = linkname
    info.mode = mode
    if pax:
        info.pax_headers = pax
    return info, data


def sdist(
    folder: Path, extra: Sequence[Tuple[tarfile.TarInfo, bytes]], name: str = f"{TOP}.tar.gz"
) -> Path:
    """A small sdist plus ``extra`` members."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    members = [
        _tar_member(f"{TOP}/PKG-INFO", PKG_INFO),
        _tar_member(f"{TOP}/demo/__init__.py", b"x = 1\n"),
        _tar_member(f"{TOP}/run.sh", b"#!/bin/sh\n", mode=0o755),
        *extra,
    ]
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _oversized(folder: Path) -> Path:
    """A tar whose second member's header declares 3 GiB, followed by almost no data."""
    first, data = _tar_member(f"{TOP}/PKG-INFO", PKG_INFO)
    huge = tarfile.TarInfo(f"{TOP}/huge.bin")
    huge.size = 3 << 30
    padding = bytes(-len(data) % tarfile.BLOCKSIZE)
    raw = first.tobuf(tarfile.PAX_FORMAT) + data + padding + huge.tobuf(tarfile.PAX_FORMAT)
    return _write(folder / f"{TOP}.tar.gz", gzip.compress(raw + b"tiny"))


HOSTILE_SDISTS: Dict[str, Tuple[Callable[[Path], Path], str, str]] = {
    "absolute name": (
        lambda f: sdist(f, [_tar_member("/tmp/escaped.py", b"boom")]),
        "/tmp/escaped.py",
        "absolute",
    ),
    "parent folder": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/../../escaped.py", b"boom")]),
        "escaped.py",
        "..",
    ),
    "backslash": (
        lambda f: sdist(f, [_tar_member(f"{TOP}\\..\\escaped.py", b"boom")]),
        "escaped.py",
        "backslash",
    ),
    "symlink out, absolute": (
        lambda f: sdist(
            f, [_tar_member(f"{TOP}/passwd", kind=tarfile.SYMTYPE, linkname="/etc/passwd")]
        ),
        f"{TOP}/passwd",
        "pointing outside",
    ),
    "symlink out, relative": (
        lambda f: sdist(
            f, [_tar_member(f"{TOP}/demo/up", kind=tarfile.SYMTYPE, linkname="../../../escaped")]
        ),
        f"{TOP}/demo/up",
        "pointing outside",
    ),
    "hardlink out": (
        lambda f: sdist(
            f, [_tar_member(f"{TOP}/hard", kind=tarfile.LNKTYPE, linkname="../escaped")]
        ),
        f"{TOP}/hard",
        "pointing outside",
    ),
    "link to nothing": (
        lambda f: sdist(
            f, [_tar_member(f"{TOP}/dangling", kind=tarfile.SYMTYPE, linkname="missing.txt")]
        ),
        f"{TOP}/dangling",
        "not a file in the archive",
    ),
    "character device": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/null", kind=tarfile.CHRTYPE)]),
        f"{TOP}/null",
        "device",
    ),
    "fifo": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/pipe", kind=tarfile.FIFOTYPE)]),
        f"{TOP}/pipe",
        "special file",
    ),
    "duplicate name": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/PKG-INFO", b"again")]),
        f"{TOP}/PKG-INFO",
        "twice",
    ),
    "duplicate after normalising": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/./PKG-INFO", b"again")]),
        f"{TOP}/./PKG-INFO",
        "twice",
    ),
    "two top folders": (
        lambda f: sdist(f, [_tar_member("other-1.0/x.py", b"")]),
        f"{TOP}.tar.gz",
        "one top folder",
    ),
    "declared size beyond the limit": (_oversized, f"{TOP}/huge.bin", "beyond the limit"),
    "compression bomb": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/zeros.bin", bytes(64 * MiB))]),
        f"{TOP}/zeros.bin",
        "bomb",
    ),
    "pax header bomb": (
        lambda f: sdist(f, [_tar_member(f"{TOP}/x.py", b"", pax={"comment": "z" * (2 * MiB)})]),
        f"{TOP}/run.sh",
        "header record beyond",
    ),
    "not a tar": (
        lambda f: _write(f / f"{TOP}.tar.gz", b"\x1f\x8b\x08\x00garbage"),
        f"{TOP}.tar.gz",
        "not a readable tar archive",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(params=sorted(HOSTILE_SDISTS), ids=lambda n: n.replace(" ", "-").replace(",", ""))
def hostile_sdist(request: pytest.FixtureRequest, tmp_path: Path) -> Tuple[Path, str, str]:
    make, member, says = HOSTILE_SDISTS[request.param]
    return make(tmp_path / "in"), member, says


def test_the_sdist_check_refuses_it(hostile_sdist: Tuple[Path, str, str]) -> None:
    path, member, says = hostile_sdist
    with pytest.raises(ArchiveError) as caught:
        check_sdist(path)
    _assert_one_sentence(str(caught.value), path, member, says)


def test_unpacking_refuses_it_and_leaves_nothing(
    hostile_sdist: Tuple[Path, str, str], tmp_path: Path
) -> None:
    path, member, says = hostile_sdist
    before = _snapshot(tmp_path)
    with pytest.raises(ArchiveError) as caught:
        unpack_sdist(path, tmp_path / "unpacked")
    _assert_one_sentence(str(caught.value), path, member, says)
    assert _snapshot(tmp_path) == before
    assert not Path("/tmp/escaped.py").exists()


def test_the_upload_check_fails_it_before_contacting_the_index(
    hostile_sdist: Tuple[Path, str, str],
) -> None:
    path, member, says = hostile_sdist
    [checked] = check_distributions([path])
    assert not checked.ok
    _assert_one_sentence(checked.messages[0], path, member, says)
    with index_server.refused_url() as url, pytest.raises(UploadError) as caught:
        upload([path], Repository(url, "user", "secret"))
    assert "nothing was uploaded" in str(caught.value) and member in str(caught.value)


def test_a_good_sdist_unpacks_as_plain_files(tmp_path: Path) -> None:
    inner_link = _tar_member(f"{TOP}/README", kind=tarfile.SYMTYPE, linkname="demo/__init__.py")
    hard = _tar_member(f"{TOP}/again.sh", kind=tarfile.LNKTYPE, linkname=f"{TOP}/run.sh")
    setuid = _tar_member(f"{TOP}/suid", b"s", mode=0o4755)
    folder = _tar_member(f"{TOP}/empty", kind=tarfile.DIRTYPE, mode=0o777)
    path = sdist(tmp_path / "in", [inner_link, hard, setuid, folder])
    check_sdist(path)
    top = unpack_sdist(path, tmp_path / "out")
    assert top == tmp_path / "out" / TOP
    assert _snapshot(top) == [
        "PKG-INFO",
        "README",
        "again.sh",
        "demo",
        "demo/__init__.py",
        "empty",
        "run.sh",
        "suid",
    ]
    assert not (top / "README").is_symlink() and (top / "README").read_bytes() == b"x = 1\n"
    assert (top / "again.sh").read_bytes() == b"#!/bin/sh\n"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in top.iterdir() if p.is_file()}
    umask = os.umask(0)
    os.umask(umask)
    assert modes["run.sh"] == modes["again.sh"] == modes["suid"] == 0o755 & ~umask
    assert modes["PKG-INFO"] == 0o644 & ~umask


def test_unpacking_needs_a_new_folder(tmp_path: Path) -> None:
    path = sdist(tmp_path / "in", [])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ArchiveError, match="exists already"):
        unpack_sdist(path, tmp_path / "out")
    assert _snapshot(tmp_path / "out") == ["keep.txt"]


def test_an_sdist_of_ours_unpacks(tmp_path: Path) -> None:
    from maturin_nox.sdist import _write_tar

    files: Dict[str, Union[bytes, Path]] = {"PKG-INFO": PKG_INFO, "src/lib.rs": b"// lib\n"}
    path = _write_tar(tmp_path / f"{TOP}.tar.gz", TOP, files)  # type: ignore[arg-type]
    top = unpack_sdist(path, tmp_path / "out")
    assert (top / "src" / "lib.rs").read_bytes() == b"// lib\n"
