"""What the audit needs to know about one ELF file, read with pyelftools.

Only the dynamic segment, the version-needs section, the dynamic symbol table
and the x86 ISA property note are read. The symbol table is decoded with
``struct`` straight from the bytes, because building a pyelftools object per
symbol is what makes other auditors slow on large libraries.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.sections import NoteSection

from ..errors import AuditError

__all__ = ["ElfInfo", "elf_arch", "is_elf", "parse_elf", "read_elf"]

ELF_MAGIC = b"\x7fELF"

# (e_machine, class, little endian) -> the architecture name used in platform tags
_ARCHES = {
    ("EM_386", 32, True): "i686",
    ("EM_X86_64", 64, True): "x86_64",
    ("EM_PPC64", 64, True): "ppc64le",
    ("EM_PPC64", 64, False): "ppc64",
    ("EM_RISCV", 64, True): "riscv64",
    ("EM_AARCH64", 64, True): "aarch64",
    ("EM_S390", 64, False): "s390x",
    ("EM_ARM", 32, True): "armv7l",
    ("EM_LOONGARCH", 64, True): "loongarch64",
}
# the same keyed by raw header values, for the cheap header-only check
_RAW_MACHINES = {
    3: "EM_386",
    62: "EM_X86_64",
    21: "EM_PPC64",
    243: "EM_RISCV",
    183: "EM_AARCH64",
    22: "EM_S390",
    40: "EM_ARM",
    258: "EM_LOONGARCH",
}

_DAMAGED = (
    ELFError,
    struct.error,
    ValueError,
    KeyError,
    IndexError,
    AssertionError,
    OverflowError,
)

_SHN_UNDEF = 0
_STB_WEAK = 2
_STT_FUNC = 2


@dataclass(frozen=True)
class ElfInfo:
    """The dynamic-linking facts of one ELF file."""

    name: str  # where it came from: a path or a wheel arcname
    arch: Optional[str]  # "x86_64", ... or None when unknown
    elf_class: int  # 32 or 64
    isa_level: Optional[str]  # "x86_64_v2".."x86_64_v4" when the ISA note asks for more
    interpreter: Optional[str]
    soname: Optional[str]
    needed: Tuple[str, ...]
    rpath: Tuple[str, ...]
    runpath: Tuple[str, ...]
    # library soname -> needed version -> one symbol that needs it (for messages)
    version_needs: Mapping[str, Mapping[str, str]]
    undefined: FrozenSet[str]  # undefined, non-weak dynamic symbols
    init_functions: FrozenSet[str]  # defined PyInit_* / init* / _cffi_pypyinit_* functions

    @property
    def is_musl(self) -> bool:
        """Linked against musl libc (by its loader or libc soname)."""
        names = [*self.needed, Path(self.interpreter).name if self.interpreter else ""]
        return any(n.startswith(("libc.musl-", "ld-musl-")) for n in names)

    @property
    def is_glibc(self) -> bool:
        """Linked against glibc (by its loader or libc soname)."""
        names = [*self.needed, Path(self.interpreter).name if self.interpreter else ""]
        return any(n == "libc.so.6" or n.startswith(("ld-linux", "ld64.so.")) for n in names)

    def is_extension(self) -> bool:
        """Whether this is a Python extension module (defines its module init function);
        cargo's ``lib<name>.so``, not yet renamed for the wheel, counts as ``<name>``."""
        module = Path(self.name).name.split(".", 1)[0]
        names = {module, module[3:]} if module.startswith("lib") else {module}
        inits = {
            f"{prefix}{name}" for name in names for prefix in ("PyInit_", "init", "_cffi_pypyinit_")
        }
        return bool(inits & self.init_functions)


def is_elf(data: bytes) -> bool:
    """Whether the bytes start like an ELF file."""
    return data[:4] == ELF_MAGIC


def elf_arch(path: Path) -> Tuple[Optional[str], int]:
    """The architecture and class of an ELF file from its header alone, cheaply."""
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or not is_elf(head):
        return None, 0
    elf_class = 64 if head[4] == 2 else 32
    little = head[5] == 1
    machine = int.from_bytes(head[18:20], "little" if little else "big")
    return _ARCHES.get((_RAW_MACHINES.get(machine, ""), elf_class, little)), elf_class


def read_elf(path: Path, name: Optional[str] = None) -> ElfInfo:
    """Parse an ELF file on disk."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"Cannot read {path}: {exc.strerror}.") from None
    return parse_elf(data, name or str(path))


def parse_elf(data: bytes, name: str) -> ElfInfo:
    """Parse ELF bytes; ``name`` only labels the result and error messages."""
    try:
        return _parse(data, name)
    # pyelftools reports damaged files in many ways, asserts and overflows among them
    except _DAMAGED as exc:
        detail = " ".join(str(exc).split()).rstrip(".") or f"{type(exc).__name__} in pyelftools"
        raise AuditError(f"{name} is not a readable ELF file: {detail}.") from None


def _parse(data: bytes, name: str) -> ElfInfo:
    elf = ELFFile(io.BytesIO(data))
    arch = _ARCHES.get((elf["e_machine"], elf.elfclass, elf.little_endian))
    interpreter: Optional[str] = None
    needed: list[str] = []
    rpath: Tuple[str, ...] = ()
    runpath: Tuple[str, ...] = ()
    soname: Optional[str] = None
    segment: Any  # pyelftools' stubs do not know the attributes of specific segments
    tag: Any
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            interpreter = segment.get_interp_name()
        elif isinstance(segment, DynamicSegment):
            for tag in segment.iter_tags():
                kind = tag.entry.d_tag
                if kind == "DT_NEEDED":
                    needed.append(tag.needed)
                elif kind == "DT_RPATH":
                    rpath = tuple(p for p in tag.rpath.split(":") if p)
                elif kind == "DT_RUNPATH":
                    runpath = tuple(p for p in tag.runpath.split(":") if p)
                elif kind == "DT_SONAME":
                    soname = tag.soname
    symbols = _dynamic_symbols(elf, data)
    version_needs = _version_needs(elf, symbols)
    undefined = frozenset(
        s_name for s_name, undef, weak, _func, _ver in symbols if undef and not weak
    )
    inits = frozenset(
        s_name
        for s_name, undef, _weak, func, _ver in symbols
        if func and not undef and s_name.startswith(("PyInit_", "init", "_cffi_pypyinit_"))
    )
    return ElfInfo(
        name=name,
        arch=arch,
        elf_class=elf.elfclass,
        isa_level=_isa_level(elf) if arch == "x86_64" else None,
        interpreter=interpreter,
        soname=soname,
        needed=tuple(needed),
        rpath=rpath,
        runpath=runpath,
        version_needs=version_needs,
        undefined=undefined,
        init_functions=inits,
    )


# (name, undefined, weak, function, version index)
_Symbol = Tuple[str, bool, bool, bool, int]


def _dynamic_symbols(elf: ELFFile, data: bytes) -> list[_Symbol]:
    """Decode .dynsym (and .gnu.version) from the raw bytes."""
    dynsym = elf.get_section_by_name(".dynsym")
    if dynsym is None or dynsym["sh_size"] == 0:
        return []
    strtab = elf.get_section(dynsym["sh_link"])
    str_off = strtab["sh_offset"]
    strings = data[str_off : str_off + strtab["sh_size"]]
    endian = "<" if elf.little_endian else ">"
    if elf.elfclass == 64:
        fmt, name_at, info_at, shndx_at = endian + "IBBHQQ", 0, 1, 3
    else:
        fmt, name_at, info_at, shndx_at = endian + "IIIBBH", 0, 3, 5
    size = struct.calcsize(fmt)
    start = dynsym["sh_offset"]
    table = data[start : start + dynsym["sh_size"] - dynsym["sh_size"] % size]
    versions: Tuple[int, ...] = ()
    versym = elf.get_section_by_name(".gnu.version")
    if versym is not None:
        v_off = versym["sh_offset"]
        raw = data[v_off : v_off + versym["sh_size"] - versym["sh_size"] % 2]
        versions = tuple(v for (v,) in struct.iter_unpack(endian + "H", raw))
    result: list[_Symbol] = []
    for index, entry in enumerate(struct.iter_unpack(fmt, table)):
        offset = entry[name_at]
        if offset == 0:
            continue
        end = strings.find(b"\0", offset)
        sym_name = strings[offset : end if end >= 0 else None].decode("utf-8", "replace")
        info = entry[info_at]
        version = versions[index] & 0x7FFF if index < len(versions) else 0
        result.append(
            (
                sym_name,
                entry[shndx_at] == _SHN_UNDEF,
                info >> 4 == _STB_WEAK,
                info & 0xF == _STT_FUNC,
                version,
            )
        )
    return result


def _version_needs(elf: ELFFile, symbols: list[_Symbol]) -> Dict[str, Dict[str, str]]:
    """Library -> needed version -> an undefined symbol bound to it, from .gnu.version_r."""
    section = elf.get_section_by_name(".gnu.version_r")
    if not isinstance(section, GNUVerNeedSection):
        return {}
    example: Dict[int, str] = {}
    for s_name, undef, _weak, _func, version in symbols:
        if undef and version > 1 and version not in example:
            example[version] = s_name
    result: Dict[str, Dict[str, str]] = {}
    for verneed, auxiliaries in section.iter_versions():
        library = str(verneed.name)
        entries = result.setdefault(library, {})
        for aux in auxiliaries:
            entries[aux.name] = example.get(aux["vna_other"], "")
    return result


def _isa_level(elf: ELFFile) -> Optional[str]:
    """The x86-64 micro-architecture level the GNU property note asks for, if above v1."""
    section = elf.get_section_by_name(".note.gnu.property")
    if not isinstance(section, NoteSection):
        return None
    for note in section.iter_notes():
        if note["n_type"] != "NT_GNU_PROPERTY_TYPE_0" or note["n_name"] != "GNU":
            continue
        for prop in note["n_desc"]:
            if prop.pr_type != "GNU_PROPERTY_X86_ISA_1_NEEDED" or prop.pr_datasz != 4:
                continue
            bits = prop.pr_data & ~1  # bit 0 is the baseline
            for bit, level in ((8, "x86_64_v4"), (4, "x86_64_v3"), (2, "x86_64_v2")):
                if bits & bit:
                    return level
            return None
    return None
