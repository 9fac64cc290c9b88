"""Wheel compression: maturin's methods and levels, large members deflated in a thread
pool without changing a byte of the archive, and the reuse stamp keyed on the setting."""

from __future__ import annotations

import hashlib
import os
import struct
import zipfile
from pathlib import Path
from typing import List

import pytest

from maturin_nox import wheel
from maturin_nox.builder import _digest
from maturin_nox.compression import FAST, RELEASE, Compression, resolve_compression
from maturin_nox.payload import WheelPayload
from maturin_nox.wheel import WheelWriter, read_wheel


def _members() -> List[bytes]:
    # compressible but not trivial: a few MB each, so the pool takes them
    seed = hashlib.sha256(b"maturin-nox").digest()
    big = b"".join(
        hashlib.sha256(seed + i.to_bytes(4, "little")).digest()[:8] + b"\0" * 24
        for i in range(40_000)
    )
    return [big, big[::-1], b"print('small')\n"]


def _write(out: Path, compression: Compression) -> Path:
    writer = WheelWriter(out, "pkg", "1.0", ["py3-none-any"], compression=compression)
    big, other, small = _members()
    writer.add_bytes("pkg/_native.so", big, executable=True)
    writer.add_bytes("pkg/data.bin", other)
    writer.add_bytes("pkg/__init__.py", small)
    writer.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
    return writer.finish()


@pytest.mark.parametrize(
    "compression",
    [
        RELEASE,
        Compression("deflated", 1),
        Compression("deflated", 9),
        Compression("bzip2", 9),
        FAST,
    ],
    ids=lambda c: c.describe(),
)
def test_the_pool_writes_the_same_bytes_as_a_serial_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compression: Compression
) -> None:
    pooled = _write(tmp_path / "pooled", compression).read_bytes()
    monkeypatch.setattr(wheel, "_POOL_MIN", 1 << 62)  # nothing is big enough: all serial
    serial = _write(tmp_path / "serial", compression).read_bytes()
    assert pooled == serial
    with zipfile.ZipFile(tmp_path / "pooled" / "pkg-1.0-py3-none-any.whl") as zf:
        assert zf.testzip() is None
        methods = {i.filename: i.compress_type for i in zf.infolist()}
    assert set(methods.values()) == {compression.zip_method}


def test_every_method_reads_back_with_its_record(tmp_path: Path) -> None:
    big, _, small = _members()
    for compression in (RELEASE, FAST, Compression("bzip2", 6), Compression("deflated", 0)):
        path = _write(tmp_path / compression.method / str(compression.level), compression)
        contents = read_wheel(path)
        assert (
            contents.files["pkg/_native.so"] == big and contents.files["pkg/__init__.py"] == small
        )
    sizes = {
        c.describe(): _write(tmp_path / "s" / c.describe(), c).stat().st_size
        for c in (FAST, RELEASE)
    }
    assert sizes[RELEASE.describe()] < sizes[FAST.describe()]


def test_large_file_support_gives_every_member_zip64_records(tmp_path: Path) -> None:
    path = _write(tmp_path, Compression("deflated", 6, large_file=True))
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert zf.read("pkg/__init__.py") == _members()[2]
    for info in infos:
        # local header: 30 bytes, then the name, then the extra field holding the zip64 record
        name_len, extra_len = struct.unpack(
            "<HH", data[info.header_offset + 26 : info.header_offset + 30]
        )
        extra = data[
            info.header_offset + 30 + name_len : info.header_offset + 30 + name_len + extra_len
        ]
        assert extra[:2] == b"\x01\x00", f"{info.filename} has no zip64 extra field"


def test_resolve_compression_follows_maturin() -> None:
    assert resolve_compression(None, None, False, fast=False) == RELEASE
    assert resolve_compression(None, None, False, fast=True) == FAST
    assert resolve_compression(None, 3, False, fast=True) == Compression("deflated", 3)
    assert resolve_compression("bzip2", None, False, fast=True) == Compression("bzip2", 6)
    assert resolve_compression("stored", 0, True, fast=False) == Compression("stored", 0, True)


def test_the_reuse_stamp_digest_includes_the_compression(tmp_path: Path) -> None:
    source = tmp_path / "lib.so"
    source.write_bytes(b"\x7fELF")
    payload = WheelPayload(
        "pkg", "1.0", ("py3-none-any",), {"pkg/lib.so": source}, {"METADATA": b"x"}
    )
    digests = {
        _digest(payload, tmp_path / "work", c) for c in (RELEASE, FAST, Compression("deflated", 1))
    }
    assert len(digests) == 3
    assert _digest(payload, tmp_path / "work", RELEASE) == _digest(
        payload, tmp_path / "work", RELEASE
    )


def test_a_failed_pooled_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: bytes, compression: Compression) -> bytes:
        raise OSError("disk on fire")

    monkeypatch.setattr(wheel, "_compress", broken)
    with pytest.raises(OSError):
        _write(tmp_path, RELEASE)
    assert os.listdir(tmp_path) == []
