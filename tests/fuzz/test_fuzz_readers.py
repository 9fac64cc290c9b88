"""The readers of untrusted input under atheris, for a bounded number of runs,
and the inputs fuzzing found that once crashed them, as plain regression tests.

Longer runs: ``python3 tests/fuzz/fuzz_readers.py TARGET -max_total_time=600 CORPUS``
(see that file).
"""

from __future__ import annotations

import io
import os
import platform
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Dict

import pytest

from maturin_nox.archives import check_sdist, read_zip
from maturin_nox.audit.elf import parse_elf
from maturin_nox.errors import ArchiveError, AuditError, ConfigError
from maturin_nox.metadata import resolve_metadata

HARNESS = Path(__file__).with_name("fuzz_readers.py")
REPO = HARNESS.parents[2]
RUNS = 2000  # per target: a few seconds to half a minute each


@pytest.mark.parametrize("target", ["toml", "wheel", "sdist", "elf"])
def test_every_input_ends_in_a_result_or_a_maturin_nox_error(target: str, tmp_path: Path) -> None:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        pytest.skip("the fuzzer's wheels (the test extra) are for Linux x86_64 only")
    pytest.importorskip("atheris")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "MATURIN_NOX_FUZZ_WORK": str(tmp_path / "work"),
    }
    env.pop("MATURIN_NOX_FUZZ_COLLECT", None)
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, str(HARNESS), "seed", str(corpus), target], env=env, check=True)
    flags = [f"-runs={RUNS}", "-seed=1", "-max_len=4096", "-timeout=60", "-rss_limit_mb=3072"]
    proc = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            target,
            *flags,
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=900,
    )
    log = "\n".join(line for line in proc.stderr.splitlines() if "Instrumenting" not in line)
    assert proc.returncode == 0, log[-6000:]
    assert f"Done {RUNS} runs" in log or "DONE" in log, log[-2000:]


# --- what fuzzing found -----------------------------------------------------------


def _tiny_elf(strtab: int) -> bytes:
    """A 168-byte x86_64 shared object: one PT_DYNAMIC segment, no sections."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    dynamic = struct.pack("<IIQQQQQQ", 2, 6, 120, 120, 120, 48, 48, 8)
    tags = struct.pack("<qQqQqQ", 1, 1, 5, strtab, 0, 0)  # DT_NEEDED, DT_STRTAB, DT_NULL
    return header + dynamic + tags


def test_an_elf_whose_string_table_is_nowhere_is_refused() -> None:
    # pyelftools asserts here; the audit must say the file is damaged instead
    with pytest.raises(AuditError, match=r"^demo/x\.so is not a readable ELF file: "):
        parse_elf(_tiny_elf(strtab=0x99999), "demo/x.so")


def _metadata_with(root: Path, license_files: Any) -> str:
    (root / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\n')
    package: Dict[str, Any] = {
        "name": "demo",
        "version": "0.1.0",
        "manifest_path": str(root / "Cargo.toml"),
    }
    project = {"name": "demo", "version": "0.1.0", "license-files": license_files}
    meta = resolve_metadata(
        cargo_package=package, pyproject={"project": project}, project_root=root
    )
    return meta.metadata_text


def test_license_file_brackets_match_verbatim(tmp_path: Path) -> None:
    (tmp_path / "LICENSE-MIT").write_text("MIT\n")
    (tmp_path / "LICENSE_Z").write_text("Z\n")
    # once a regex range ("y-4" is no range at all) and a crash; PEP 639 matches verbatim
    assert "License-File: LICENSE-MIT" in _metadata_with(tmp_path, ["LICENSE[-y]MIT"])
    text = _metadata_with(tmp_path, ["LICENSE[_4-y]*"])
    assert "LICENSE_Z" in text and "LICENSE-MIT" in text


def test_empty_license_file_brackets_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid character range"):
        _metadata_with(tmp_path, ["LICENSE[]"])


def test_a_link_target_with_braces_is_quoted_not_formatted(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("demo-1.0/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/{member}}{0}"
        tar.addfile(info)
    with pytest.raises(ArchiveError, match=r"'demo-1\.0/link' pointing outside it"):
        check_sdist(path)


def test_a_member_name_with_a_newline_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("demo/evil\n\x1b[2Jname.py", b"")
    with pytest.raises(ArchiveError) as caught:
        read_zip(path)
    assert "control character" in str(caught.value) and "\n" not in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_raw_bytes_are_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.whl"
    path.write_bytes(io.BytesIO(b"PK\x05\x06" + bytes(18)).getvalue()[:10])
    with pytest.raises(ArchiveError, match="not a zip archive"):
        read_zip(path)
