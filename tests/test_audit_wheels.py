"""Auditing real wheels from PyPI (same tag as ``auditwheel show``), bad inputs, the CLI.

The PyPI wheels are downloaded once into ``~/.cache/maturin-nox-tests/wheels``
and reused by later sessions; without network access those tests skip.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Sequence

import pytest

from maturin_nox.audit import analyze_wheel, repair_wheel
from maturin_nox.cli import main
from maturin_nox.errors import AuditError, WheelError
from maturin_nox.wheel import WheelWriter

CACHE = Path.home() / ".cache" / "maturin-nox-tests" / "wheels"
# (requirement, platform tags pip may pick) for CPython 3.11 on x86_64
REAL_WHEELS = {
    "numpy==2.1.3": "manylinux_2_17_x86_64",
    "cryptography==43.0.3": "manylinux_2_17_x86_64",
    "orjson==3.10.11": "manylinux_2_17_x86_64",
    "pyyaml==6.0.2": "manylinux_2_17_x86_64",
}
MUSL_WHEEL = ("orjson==3.10.11", "musllinux_1_2_x86_64")


def _download(requirement: str, platform: str) -> Path:
    """The cached wheel for a requirement and platform, downloaded on first use."""
    name = requirement.split("==")[0].lower()
    version = requirement.split("==")[1]
    pattern = f"*-{version}-*{platform}*.whl"
    found = [p for p in CACHE.glob(pattern) if p.name.lower().startswith(name)]
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--no-deps",
                "--python-version",
                "3.11",
                "--platform",
                platform,
                requirement,
                "-d",
                str(CACHE),
            ],
            capture_output=True,
            text=True,
        )
        found = [p for p in CACHE.glob(pattern) if p.name.lower().startswith(name)]
        if proc.returncode != 0 or not found:
            pytest.skip(f"cannot download {requirement} for {platform}: {proc.stderr[-300:]}")
    return found[0]


@pytest.fixture(scope="session")
def real_wheels() -> Dict[str, Path]:
    """Real manylinux wheels, by requirement."""
    return {req: _download(req, plat) for req, plat in REAL_WHEELS.items()}


def _auditwheel_show(wheel: Path) -> Dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", "--json", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    result: Dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize("requirement", sorted(REAL_WHEELS))
def test_tag_matches_auditwheel_show(real_wheels: Dict[str, Path], requirement: str) -> None:
    pytest.importorskip("auditwheel")
    wheel = real_wheels[requirement]
    theirs = _auditwheel_show(wheel)
    ours = analyze_wheel(wheel)
    assert ours.tag == theirs["overall_tag"]
    assert ours.symbol_tag == theirs["sym_tag"]
    assert {k: set(v) for k, v in ours.versioned_symbols.items()} == {
        k: set(v)
        for k, v in theirs["versioned_symbols"].items()  # type: ignore[union-attr]
    }
    assert sorted(ours.external_libs) == sorted(theirs["external_libs"])  # type: ignore[arg-type]


def test_numpy_blockers_name_the_grafted_libraries_needs(real_wheels: Dict[str, Path]) -> None:
    report = analyze_wheel(real_wheels["numpy==2.1.3"])
    reasons = report.blockers["manylinux_2_5_x86_64"]
    assert any(r.startswith("numpy.libs/libgfortran-") and "GLIBC_2.17" in r for r in reasons)
    assert "manylinux_2_17_x86_64" not in report.blockers


def test_musllinux_wheel_keeps_its_tag() -> None:
    # auditwheel on a glibc machine cannot resolve musl's plain `libc.so` and says
    # linux_x86_64; Rust's musl target links exactly that name, so we allow it.
    wheel = _download(*MUSL_WHEEL)
    report = analyze_wheel(wheel)
    assert report.tag == "musllinux_1_2_x86_64"
    assert report.external_libs == {}


def test_cli_audit_json_has_the_documented_keys(
    real_wheels: Dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = real_wheels["orjson==3.10.11"]
    assert main(["audit", "--json", str(wheel)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"wheel", "tag", "external_libs", "versioned_symbols", "blockers"} <= set(data)
    assert data["wheel"] == wheel.name and data["tag"] == "manylinux_2_17_x86_64"
    assert main(["audit", str(wheel)]) == 0
    assert 'consistent with the platform tag "manylinux_2_17_x86_64"' in capsys.readouterr().out


def test_repair_of_a_compliant_wheel_only_retags(
    real_wheels: Dict[str, Path], tmp_path: Path
) -> None:
    out = repair_wheel(real_wheels["pyyaml==6.0.2"], tmp_path, compatibility="manylinux_2_28")
    assert out.name == "pyyaml-6.0.2-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert analyze_wheel(out).tag == "manylinux_2_17_x86_64"  # the binaries did not change


# --- bad input: clear errors, nothing written --------------------------------


def _pure_wheel(out: Path) -> Path:
    writer = WheelWriter(out, "demo", "1.0", ["py3-none-any"])
    writer.add_bytes("demo/__init__.py", "x = 1\n")
    writer.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    return writer.finish()


def _rezip(source: Path, target: Path, edit: Dict[str, bytes], symlink: Sequence[str] = ()) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, edit.pop(info.filename, zin.read(info)))
        for name, data in edit.items():
            info = zipfile.ZipInfo(name)
            if name in symlink:
                info.create_system = 3
                info.external_attr = (0o120777) << 16
            zout.writestr(info, data)
    return target


def _assert_refused(wheel: Path, tmp_path: Path, match: str) -> None:
    with pytest.raises(WheelError, match=match):
        analyze_wheel(wheel)
    out = tmp_path / "out"
    with pytest.raises(WheelError, match=match):
        repair_wheel(wheel, out)
    assert not out.exists() or not any(out.iterdir())


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "demo-1.0-py3-none-any.whl"
    bogus.write_bytes(b"not a zip at all")
    _assert_refused(bogus, tmp_path, "not a zip archive")


def test_a_file_that_is_not_a_wheel_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "demo.tar.gz"
    other.write_bytes(b"x")
    _assert_refused(other, tmp_path, "not a wheel")


def test_record_mismatch_is_refused(tmp_path: Path) -> None:
    good = _pure_wheel(tmp_path / "good")
    bad = _rezip(good, tmp_path / good.name, {"demo/__init__.py": b"x = 2\n"})
    _assert_refused(bad, tmp_path, "does not match its RECORD hash")


def test_parent_paths_and_symlinks_are_refused(tmp_path: Path) -> None:
    good = _pure_wheel(tmp_path / "good")
    (tmp_path / "a").mkdir()
    escaping = _rezip(good, tmp_path / "a" / good.name, {"../evil.py": b"boom"})
    _assert_refused(escaping, tmp_path, "unsafe path")
    (tmp_path / "b").mkdir()
    linked = _rezip(
        good, tmp_path / "b" / good.name, {"demo/link.py": b"/etc/passwd"}, symlink=["demo/link.py"]
    )
    _assert_refused(linked, tmp_path, "symbolic link")


def test_a_pure_wheel_reports_pure_and_is_not_repaired(tmp_path: Path) -> None:
    wheel = _pure_wheel(tmp_path / "dist")
    report = analyze_wheel(wheel)
    assert report.pure and report.tag is None
    with pytest.raises(AuditError, match="pure wheel"):
        repair_wheel(wheel, tmp_path / "out")


def test_cli_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    bogus = tmp_path / "demo-1.0-py3-none-any.whl"
    bogus.write_bytes(b"zzz")
    proc = subprocess.run(
        [sys.executable, "-m", "maturin_nox", "audit", str(bogus)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "not a zip archive" in proc.stderr and "Traceback" not in proc.stderr


def test_an_elf_tagged_for_another_architecture_is_refused(
    real_wheels: Dict[str, Path], tmp_path: Path
) -> None:
    source = real_wheels["orjson==3.10.11"]
    with zipfile.ZipFile(source) as z:
        files = {n: z.read(n) for n in z.namelist()}
    writer = WheelWriter(tmp_path, "orjson", "3.10.11", ["cp311-cp311-linux_aarch64"])
    for name, data in files.items():
        if ".dist-info/" not in name:
            writer.add_bytes(name, data)
    writer.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: orjson\nVersion: 3.10.11\n")
    wheel = writer.finish()
    with pytest.raises(
        AuditError, match="tagged for aarch64 but its binaries are built for x86_64"
    ):
        analyze_wheel(wheel)
