"""Fuzzing the readers of untrusted input with atheris: every input ends in a
result or a ``MaturinNoxError``, never another exception.

    python3 tests/fuzz/fuzz_readers.py TARGET [libFuzzer flags] [CORPUS_DIR...]

TARGET is one of :data:`TARGETS`: ``toml`` (pyproject.toml through the TOML
reader, ``[tool.maturin]`` and the core metadata), ``wheel`` (a zip built from
the input, through ``read_wheel``, the gate's audit and ``audit``), ``sdist``
(a tar built from the input, through the sdist check and unpacker) and ``elf``
(bytes through ``parse_elf``). ``seed DIR TARGET`` writes a starting corpus.
Any other exception is a crash: atheris prints it and exits non-zero, and
libFuzzer saves the input as ``crash-*`` (``-artifact_prefix=``).
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import atheris

with atheris.instrument_imports(include=["maturin_nox", "elftools"]):
    from maturin_nox.archives import check_sdist, unpack_sdist
    from maturin_nox.audit.elf import parse_elf
    from maturin_nox.audit.report import analyze_wheel
    from maturin_nox.config import MaturinConfig
    from maturin_nox.errors import MaturinNoxError
    from maturin_nox.gate import audit_wheel
    from maturin_nox.metadata import resolve_metadata
    from maturin_nox.toml import loads_toml
    from maturin_nox.wheel import read_wheel, record_hash

REPO = Path(__file__).resolve().parents[2]
# libFuzzer ends the process itself, so the caller cleans up: a folder it names, or a temp one.
WORK = Path(os.environ.get("MATURIN_NOX_FUZZ_WORK") or tempfile.mkdtemp(prefix="maturin-nox-fuzz-"))
ROOT = WORK / "project"  # what a fuzzed pyproject.toml's relative paths point into
ROOT.mkdir(parents=True, exist_ok=True)
(ROOT / "README.md").write_text("# demo\n")
(ROOT / "LICENSE").write_text("MIT\n")
(ROOT / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\n')
CARGO_PACKAGE = {
    "name": "demo",
    "version": "0.1.0",
    "manifest_path": str(ROOT / "Cargo.toml"),
    "description": "a demo",
    "license": "MIT",
    "authors": ["A <a@example.com>"],
}


# With MATURIN_NOX_FUZZ_COLLECT=FILE, crashes are appended to FILE (type and place, one
# line each) and fuzzing goes on: to survey every kind of crash in one long run.
COLLECT = os.environ.get("MATURIN_NOX_FUZZ_COLLECT")


def _expected(call: Callable[[], object]) -> None:
    """Run one reader; a MaturinNoxError is an answer, anything else a crash."""
    try:
        call()
    except MaturinNoxError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), f"not one sentence: {message!r}"
    except Exception as exc:
        if not COLLECT:
            raise
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "maturin_nox" in f.filename]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in [frames[-1], *ours[-1:]])
        with open(COLLECT, "a", encoding="utf-8") as log:
            log.write(f"{type(exc).__name__}: {str(exc)[:80]!r} at {where}\n")


# --- toml: pyproject.toml -> [tool.maturin] and core metadata -----------------------


def fuzz_toml(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # load_toml turns this into a ProjectError before the parser sees it
    path = ROOT / "pyproject.toml"

    def run() -> None:
        doc = loads_toml(text, path)
        MaturinConfig.from_pyproject(doc, path)
        resolve_metadata(cargo_package=CARGO_PACKAGE, pyproject=doc, project_root=ROOT)

    _expected(run)


# --- wheel: a zip made from the input -> read_wheel, gate audit, audit ---------------

WHEEL_NAMES = [
    "demo-1.0-py3-none-any.whl",
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    "demo-1.0-cp311-cp311-linux_x86_64.whl",
    "demo-1.0-cp311-abi3-musllinux_1_2_x86_64.whl",
    "demo-1.0-1-py3-none-any.whl",
]
MEMBER_NAMES = [
    "demo-1.0.dist-info/METADATA",
    "demo-1.0.dist-info/WHEEL",
    "demo-1.0.dist-info/RECORD",
    "demo-1.0.dist-info/entry_points.txt",
    "demo/__init__.py",
    "demo/_demo.cpython-311-x86_64-linux-gnu.so",
    "demo.libs/libfoo.so.1",
    "demo-1.0.data/purelib/x.so",
    "demo-1.0.data/scripts/run",
    "other-1.0.dist-info/METADATA",
]
METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
WHEEL_FILE = b"Wheel-Version: 1.0\nGenerator: fuzz\nRoot-Is-Purelib: false\nTag: py3-none-any\n"


def _elf_seed() -> bytes:
    """The smallest extension module of this Python: a real ELF to mutate."""
    folder = Path(sysconfig.get_config_var("DESTSHARED") or "")
    found = sorted(folder.glob("*.so"), key=lambda p: p.stat().st_size) if folder.is_dir() else []
    return found[0].read_bytes() if found else b"\x7fELF"


ELF = _elf_seed()


def _member_data(fdp: atheris.FuzzedDataProvider, name: str) -> bytes:
    choice = fdp.ConsumeIntInRange(0, 4)
    if choice == 0:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256))
    if choice == 1 and name.endswith("METADATA"):
        return METADATA + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 128))
    if choice == 1 and name.endswith("WHEEL"):
        return WHEEL_FILE + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
    if choice in (2, 3):  # an ELF with a few bytes changed
        data = bytearray(ELF)
        for _ in range(fdp.ConsumeIntInRange(0, 16)):
            data[fdp.ConsumeIntInRange(0, len(data) - 1)] = fdp.ConsumeIntInRange(0, 255)
        return bytes(data)
    return METADATA if name.endswith("METADATA") else WHEEL_FILE


def _make_wheel(data: bytes) -> Path:
    fdp = atheris.FuzzedDataProvider(data)
    path = WORK / "in" / fdp.PickValueInList(WHEEL_NAMES)
    shutil.rmtree(path.parent, ignore_errors=True)
    path.parent.mkdir()
    if fdp.ConsumeBool():  # the raw bytes as the archive
        path.write_bytes(fdp.ConsumeBytes(len(data)))
        return path
    entries: List[Tuple[zipfile.ZipInfo, bytes]] = []
    for name in MEMBER_NAMES[:2]:
        entries.append((zipfile.ZipInfo(name), _member_data(fdp, name)))
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        name = (
            fdp.PickValueInList(MEMBER_NAMES)
            if fdp.ConsumeBool()
            else fdp.ConsumeUnicodeNoSurrogates(24)
        )
        info = zipfile.ZipInfo(name or "x")
        if fdp.ConsumeBool():
            info.create_system = 3
            info.external_attr = fdp.ConsumeIntInRange(0, 0xFFFF) << 16
        entries.append((info, _member_data(fdp, name)))
    record_name = "demo-1.0.dist-info/RECORD"
    if fdp.ConsumeBool():
        rows = [f"{i.filename},{record_hash(d)},{len(d)}" for i, d in entries]
        record = "\n".join([*rows, f"{record_name},,"]).encode() + b"\n"
    else:
        record = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256))
    entries.append((zipfile.ZipInfo(record_name), record))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of the game
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, content in entries:
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, content)
    return path


def fuzz_wheel(data: bytes) -> None:
    try:
        path = _make_wheel(data)
    except (ValueError, UnicodeEncodeError, OverflowError):
        return  # zipfile refused to write such an archive; nothing to read
    _expected(lambda: read_wheel(path))
    _expected(lambda: audit_wheel(path))
    _expected(lambda: analyze_wheel(path))


# --- sdist: a tar made from the input -> check_sdist, unpack_sdist -------------------


def _make_sdist(data: bytes) -> Path:
    fdp = atheris.FuzzedDataProvider(data)
    folder = WORK / "sdist"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "demo-1.0.tar.gz"
    if fdp.ConsumeBool():
        path.write_bytes(fdp.ConsumeBytes(len(data)))
        return path
    raw = io.BytesIO()
    kinds = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE]
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for _ in range(fdp.ConsumeIntInRange(1, 5)):
            name = (
                "demo-1.0/" + fdp.ConsumeUnicodeNoSurrogates(16)
                if fdp.ConsumeBool()
                else (fdp.ConsumeUnicodeNoSurrogates(24))
            )
            info = tarfile.TarInfo(name)
            info.type = fdp.PickValueInList(kinds)
            info.mode = fdp.ConsumeIntInRange(0, 0o7777)
            info.linkname = fdp.ConsumeUnicodeNoSurrogates(16)
            content = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
            info.size = len(content) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(content) if info.isreg() else None)
    body = raw.getvalue()
    if fdp.ConsumeBool():  # damage the tar stream a little
        body = bytearray(body)
        for _ in range(fdp.ConsumeIntInRange(1, 8)):
            body[fdp.ConsumeIntInRange(0, len(body) - 1)] = fdp.ConsumeIntInRange(0, 255)
        body = bytes(body)
    import gzip

    path.write_bytes(gzip.compress(body, mtime=0))
    return path


def fuzz_sdist(data: bytes) -> None:
    try:
        path = _make_sdist(data)
    except (ValueError, UnicodeEncodeError, OverflowError, tarfile.TarError):
        return  # tarfile refused to write such an archive
    out = WORK / "unpacked"
    shutil.rmtree(out, ignore_errors=True)
    _expected(lambda: check_sdist(path))
    _expected(lambda: unpack_sdist(path, out))
    if out.exists():  # unpacked: nothing but plain files and folders, all inside
        for item in out.rglob("*"):
            assert not item.is_symlink() and (item.is_file() or item.is_dir()), item
            assert item.resolve().is_relative_to(out.resolve()), item


# --- elf: bytes -> parse_elf ---------------------------------------------------------


def fuzz_elf(data: bytes) -> None:
    _expected(lambda: parse_elf(data, "demo/_demo.so"))


TARGETS: Dict[str, Callable[[bytes], None]] = {
    "toml": fuzz_toml,
    "wheel": fuzz_wheel,
    "sdist": fuzz_sdist,
    "elf": fuzz_elf,
}


def write_seeds(folder: Path, target: str) -> None:
    """A starting corpus: real pyproject.toml files, a real ELF, small structured inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds: List[bytes] = []
    if target == "toml":
        seeds = [p.read_bytes() for p in sorted((REPO / "test-crates").glob("*/pyproject.toml"))]
        seeds.append(
            b'[project]\nname = "demo"\nversion = "1.0"\nreadme = "README.md"\n'
            b'license-files = ["LICENSE"]\n[project.scripts]\ndemo = "demo:main"\n'
            b'[project.optional-dependencies]\ntest = ["pytest>=8"]\n'
            b'[tool.maturin]\nfeatures = ["pyo3/extension-module"]\nmodule-name = "demo._demo"\n'
            b'include = [{ path = "x", format = "sdist" }]\nexclude = ["y/**"]\n'
        )
    elif target == "elf":
        seeds = [ELF]
    else:
        seeds = [bytes([i]) * 64 for i in range(8)] + [os.urandom(512) for _ in range(4)]
    for index, seed in enumerate(seeds):
        (folder / f"seed-{index}").write_bytes(seed)


def main(argv: List[str]) -> None:
    if len(argv) >= 2 and argv[1] == "seed":
        write_seeds(Path(argv[2]), argv[3])
        return
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [libFuzzer flags] [CORPUS...]")
    target = TARGETS[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
