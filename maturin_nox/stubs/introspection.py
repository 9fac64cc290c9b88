"""Reading the introspection data pyo3's ``experimental-inspect`` feature puts in a library.

Every ``#[pymodule]``, ``#[pyclass]``, ``#[pyfunction]`` and exported constant
becomes one static named ``PYO3_INTROSPECTION_1_<n>``: a little-endian (the
target's byte order) 32-bit length followed by that many bytes of JSON. The
statics are found through the ELF symbol table (``.symtab``), as
pyo3-introspection 0.30 does, so a stripped library has none. The chunks name
each other by introspection id (a module lists its members' ids, a method
names its class as ``parent``), and are assembled here into a
:class:`~maturin_nox.stubs.model.Module` tree with every member list sorted as
pyo3-introspection sorts it.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from ..errors import BuildError
from . import model as m

__all__ = ["RawChunk", "StubError", "introspect", "parse_chunks", "read_chunks"]

_PREFIX = b"PYO3_INTROSPECTION_"
_SUPPORTED_VERSION = "1"
_SHN_XINDEX = 0xFFFF


class StubError(BuildError):
    """The library's introspection data is missing, malformed or not understood."""


@dataclass(frozen=True)
class RawChunk:
    """One introspection static: its symbol name and its JSON bytes."""

    symbol: str
    data: bytes


def introspect(library: Path, module_name: str) -> m.Module:
    """The module ``module_name`` as the library's introspection data describes it."""
    return parse_chunks(read_chunks(library), module_name, str(library))


# --- the ELF side -------------------------------------------------------------------------------


def read_chunks(library: Path) -> List[RawChunk]:
    """The introspection statics of an ELF library, in symbol-table order."""
    from elftools.common.exceptions import ELFError

    try:
        data = library.read_bytes()
    except OSError as exc:
        raise StubError(f"Cannot read {library} to generate type stubs: {exc.strerror}.") from None
    if data[:4] != b"\x7fELF":
        raise StubError(
            f"{library} is not an ELF library; type stubs can only be read from ELF (Linux) builds."
        )
    try:
        return list(_elf_chunks(data, str(library)))
    except (ELFError, struct.error, ValueError, IndexError) as exc:
        raise StubError(f"{library} is not a readable ELF file: {exc}.") from None


def _elf_chunks(data: bytes, source: str) -> Iterator[RawChunk]:
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(data))
    symtab = None
    for section in elf.iter_sections():  # the last symbol table, as goblin takes it
        if section["sh_type"] == "SHT_SYMTAB":
            symtab = section
    if symtab is None or symtab["sh_entsize"] == 0:
        return
    strtab = elf.get_section(symtab["sh_link"])
    strings = data[strtab["sh_offset"] : strtab["sh_offset"] + strtab["sh_size"]]
    endian = "<" if elf.little_endian else ">"
    if elf.elfclass == 64:
        fmt, value_at, shndx_at = endian + "IBBHQQ", 4, 3
    else:
        fmt, value_at, shndx_at = endian + "IIIBBH", 1, 5
    stride = symtab["sh_entsize"]
    start = symtab["sh_offset"]
    count = min(symtab["sh_size"], len(data) - start) // stride
    if stride == struct.calcsize(fmt):
        entries: Iterable[Tuple[int, ...]] = struct.iter_unpack(
            fmt, data[start : start + count * stride]
        )
    else:  # padded entries: never seen in practice, but allowed by the format
        entries = (struct.unpack_from(fmt, data, start + i * stride) for i in range(count))
    for entry in entries:
        offset = entry[0]
        if strings.startswith(b"_", offset):
            offset += 1
        if not strings.startswith(_PREFIX, offset):
            continue
        end = strings.find(b"\0", entry[0])
        name = strings[entry[0] : end if end >= 0 else None].decode("utf-8", "replace")
        version = name.lstrip("_")[len(_PREFIX) :].split("_", 1)[0]
        if version != _SUPPORTED_VERSION:
            raise StubError(
                f"{source} holds pyo3 introspection data in format {version!r} (symbol {name}), "
                f"but maturin-nox reads only format {_SUPPORTED_VERSION!r} (the one pyo3 0.30 writes); "
                "build with a pyo3 that writes it, or update maturin-nox."
            )
        shndx = entry[shndx_at]
        if shndx == _SHN_XINDEX:
            raise StubError(
                f"{source}: introspection symbol {name} uses extended section indices, "
                "which pyo3 does not support."
            )
        if shndx == 0 or shndx >= elf.num_sections():
            raise StubError(f"{source}: introspection symbol {name} is not in any section.")
        header = elf.get_section(shndx).header
        at = entry[value_at] + header["sh_offset"] - header["sh_addr"]
        if at < 0 or at + 4 > len(data):
            raise StubError(f"{source}: introspection symbol {name} points outside the file.")
        (length,) = struct.unpack_from(endian + "I", data, at)
        if at + 4 + length > len(data):
            raise StubError(
                f"{source}: introspection chunk {name} is {length} bytes long, "
                "more than the file holds."
            )
        yield RawChunk(name, data[at + 4 : at + 4 + length])


# --- the chunks, validated as pyo3-introspection's serde types read them --------------------------


class _Malformed(Exception):
    """A detail of what is wrong with one chunk, turned into a StubError by the caller."""


@dataclass(frozen=True)
class _Module:
    id: str
    name: str
    members: Tuple[str, ...]
    doc: Optional[str]
    incomplete: bool


@dataclass(frozen=True)
class _Class:
    id: str
    name: str
    bases: Tuple[Any, ...]
    decorators: Tuple[Any, ...]
    parent: Optional[str]
    doc: Optional[str]


@dataclass(frozen=True)
class _Function:
    id: Optional[str]
    name: str
    arguments: Mapping[str, Any]
    parent: Optional[str]
    decorators: Tuple[Any, ...]
    returns: Any
    is_async: bool
    doc: Optional[str]


@dataclass(frozen=True)
class _Attribute:
    id: Optional[str]
    parent: Optional[str]
    name: str
    value: Any
    annotation: Any
    doc: Optional[str]


_Chunk = Any  # one of _Module, _Class, _Function, _Attribute


def _reject_constant(name: str) -> Any:
    raise _Malformed(f"{name} is not valid JSON")


def _object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} is not a JSON object")
    return value


def _required_str(obj: Mapping[str, Any], key: str, what: str) -> str:
    if key not in obj:
        raise _Malformed(f"{what} has no {key!r}")
    value = obj[key]
    if not isinstance(value, str):
        raise _Malformed(f"{what}'s {key!r} is not a string")
    return value


def _optional_str(obj: Mapping[str, Any], key: str, what: str) -> Optional[str]:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _Malformed(f"{what}'s {key!r} is not a string")
    return value


def _bool(obj: Mapping[str, Any], key: str, what: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise _Malformed(f"{what}'s {key!r} is not true or false")
    return value


def _list(obj: Mapping[str, Any], key: str, what: str, *, required: bool = False) -> List[Any]:
    if key not in obj:
        if required:
            raise _Malformed(f"{what} has no {key!r}")
        return []
    value = obj[key]
    if not isinstance(value, list):
        raise _Malformed(f"{what}'s {key!r} is not a list")
    return value


_CONSTANT_KINDS = ("none", "bool", "int", "float", "str", "ellipsis")


def _check_expr(value: Any, what: str) -> Any:
    """Validate one expression (``{"type": ...}``); it is converted later, once ids resolve."""
    obj = _object(value, what)
    kind = _required_str(obj, "type", what)
    if kind == "constant":
        constant = _required_str(obj, "kind", what)
        if constant not in _CONSTANT_KINDS:
            raise _Malformed(f"{what} is a constant of unknown kind {constant!r}")
        if constant == "bool" and not isinstance(obj.get("value"), bool):
            raise _Malformed(f"{what} is a bool constant without a true/false 'value'")
        if constant in ("int", "float", "str"):
            _required_str(obj, "value", what)
    elif kind in ("name", "id"):
        _required_str(obj, "id", what)
    elif kind == "attribute":
        _check_expr(obj.get("value"), f"the value of {what}")
        _required_str(obj, "attr", what)
    elif kind == "binop":
        if obj.get("op") != "bitor":
            raise _Malformed(f"{what} has an operator other than 'bitor'")
        _check_expr(obj.get("left"), f"the left side of {what}")
        _check_expr(obj.get("right"), f"the right side of {what}")
    elif kind in ("tuple", "list"):
        for elt in _list(obj, "elts", what, required=True):
            _check_expr(elt, f"an element of {what}")
    elif kind == "subscript":
        _check_expr(obj.get("value"), f"the value of {what}")
        _check_expr(obj.get("slice"), f"the slice of {what}")
    else:
        raise _Malformed(f"{what} has unknown type {kind!r}")
    return obj


def _optional_expr(obj: Mapping[str, Any], key: str, what: str) -> Any:
    value = obj.get(key)
    return None if value is None else _check_expr(value, f"{what}'s {key!r}")


def _check_argument(value: Any, what: str) -> Dict[str, Any]:
    arg = _object(value, what)
    _required_str(arg, "name", what)
    _optional_expr(arg, "default", what)
    _optional_expr(arg, "annotation", what)
    return arg


def _check_arguments(value: Any, what: str) -> Dict[str, Any]:
    args = _object(value, what)
    for key in ("posonlyargs", "args", "kwonlyargs"):
        for arg in _list(args, key, what):
            _check_argument(arg, f"an argument in {what}")
    for key in ("vararg", "kwarg"):
        if args.get(key) is not None:
            _check_argument(args[key], f"{what}'s {key!r}")
    return args


def _chunk(raw: RawChunk) -> _Chunk:
    """Decode and validate one chunk."""
    try:
        text = raw.data.decode("utf-8")
        obj = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Malformed(f"it is not valid JSON ({exc})") from None
    obj = _object(obj, "it")
    kind = _required_str(obj, "type", "it")
    what = f"the {kind}"
    if kind == "module":
        members = _list(obj, "members", what, required=True)
        if not all(isinstance(member, str) for member in members):
            raise _Malformed(f"{what}'s 'members' are not all strings")
        return _Module(
            _required_str(obj, "id", what),
            _required_str(obj, "name", what),
            tuple(members),
            _optional_str(obj, "doc", what),
            _bool(obj, "incomplete", what),
        )
    if kind == "class":
        return _Class(
            _required_str(obj, "id", what),
            _required_str(obj, "name", what),
            tuple(_check_expr(e, f"a base of {what}") for e in _list(obj, "bases", what)),
            tuple(_check_expr(e, f"a decorator of {what}") for e in _list(obj, "decorators", what)),
            _optional_str(obj, "parent", what),
            _optional_str(obj, "doc", what),
        )
    if kind == "function":
        if "arguments" not in obj:
            raise _Malformed(f"{what} has no 'arguments'")
        return _Function(
            _optional_str(obj, "id", what),
            _required_str(obj, "name", what),
            _check_arguments(obj["arguments"], f"{what}'s arguments"),
            _optional_str(obj, "parent", what),
            tuple(_check_expr(e, f"a decorator of {what}") for e in _list(obj, "decorators", what)),
            _optional_expr(obj, "returns", what),
            _bool(obj, "async", what),
            _optional_str(obj, "doc", what),
        )
    if kind == "attribute":
        return _Attribute(
            _optional_str(obj, "id", what),
            _optional_str(obj, "parent", what),
            _required_str(obj, "name", what),
            _optional_expr(obj, "value", what),
            _optional_expr(obj, "annotation", what),
            _optional_str(obj, "doc", what),
        )
    raise _Malformed(f"its type {kind!r} is not module, class, function or attribute")


# --- assembling the tree ----------------------------------------------------------------------------


def parse_chunks(raw_chunks: Sequence[RawChunk], module_name: str, source: str) -> m.Module:
    """Assemble the chunks into the module named ``module_name`` (the extension's name)."""
    chunks: List[_Chunk] = []
    for raw in raw_chunks:
        try:
            chunks.append(_chunk(raw))
        except _Malformed as exc:
            raise StubError(
                f"{source}: pyo3 introspection chunk {raw.symbol} is malformed: {exc}."
            ) from None
    try:
        return _Assembler(chunks, source).root(module_name)
    except RecursionError:
        raise StubError(
            f"{source}: pyo3's introspection data nests too deeply to be turned into stubs."
        ) from None


class _Assembler:
    """Links chunks by id and parent, then converts the tree below one module."""

    def __init__(self, chunks: Sequence[_Chunk], source: str) -> None:
        self.chunks = chunks
        self.source = source
        self.by_id: Dict[str, _Chunk] = {}
        self.by_parent: Dict[str, List[_Chunk]] = {}
        for chunk in chunks:
            if chunk.id is not None:
                self.by_id[chunk.id] = chunk  # a later chunk with the same id wins
            parent = getattr(chunk, "parent", None)
            if parent is not None:
                self.by_parent.setdefault(parent, []).append(chunk)
        self.hints: Dict[str, m.Expr] = {}
        self.visiting: Set[str] = set()

    def root(self, module_name: str) -> m.Module:
        for chunk in self.chunks:
            if isinstance(chunk, _Module) and chunk.name == module_name:
                self._collect_hints(chunk, chunk.name, set())
                return self._module(chunk)
        if not self.chunks:
            raise StubError(
                f"{self.source} holds no pyo3 introspection data; enable pyo3's "
                "experimental-inspect feature and do not strip the library."
            )
        names = sorted({c.name for c in self.chunks if isinstance(c, _Module)})
        found = f"only for {', '.join(repr(n) for n in names)}" if names else "for no module"
        raise StubError(
            f"{self.source} holds pyo3 introspection data {found}, not for {module_name!r}, "
            "the extension module the project names."
        )

    # class id -> the type hint naming it, e.g. ``Attribute(Name("pkg.sub"), "Outer.Inner")``
    def _collect_hints(self, module: _Module, full_name: str, seen: Set[str]) -> None:
        if module.id in seen:
            return
        seen = seen | {module.id}
        for member in self._module_members(module):
            if isinstance(member, _Module):
                self._collect_hints(member, f"{full_name}.{member.name}", seen)
            elif isinstance(member, _Class):
                self.hints[member.id] = m.AttributeExpr(m.Name(full_name), member.name)
                self._collect_inner_hints(member.id, member.name, full_name, {member.id})

    def _collect_inner_hints(
        self, class_id: str, class_name: str, module: str, seen: Set[str]
    ) -> None:
        for member in self.by_parent.get(class_id, []):
            if isinstance(member, _Class) and member.id not in seen:
                name = f"{class_name}.{member.name}"
                self._collect_inner_hints(member.id, name, module, seen | {member.id})
                self.hints[member.id] = m.AttributeExpr(m.Name(module), name)

    def _module_members(self, module: _Module) -> List[_Chunk]:
        members = list(self.by_parent.get(module.id, []))
        members += [self.by_id[i] for i in module.members if i in self.by_id]
        return members

    def _enter(self, chunk_id: str, name: str) -> None:
        if chunk_id in self.visiting:
            raise StubError(
                f"{self.source}: pyo3's introspection data makes {name!r} a member of itself."
            )
        self.visiting.add(chunk_id)

    def _module(self, chunk: _Module) -> m.Module:
        self._enter(chunk.id, chunk.name)
        incomplete = chunk.incomplete or any(i not in self.by_id for i in chunk.members)
        modules, classes, functions, attributes = self._members(self._module_members(chunk))
        self.visiting.discard(chunk.id)
        return m.Module(chunk.name, modules, classes, functions, attributes, incomplete, chunk.doc)

    def _class(self, chunk: _Class) -> m.Class:
        self._enter(chunk.id, chunk.name)
        modules, classes, methods, attributes = self._members(self.by_parent.get(chunk.id, []))
        self.visiting.discard(chunk.id)
        if modules:
            raise StubError(
                f"{self.source}: pyo3's introspection data puts a module inside class {chunk.name!r}."
            )
        return m.Class(
            chunk.name,
            tuple(self._expr(e) for e in chunk.bases),
            methods,
            attributes,
            tuple(self._expr(e) for e in chunk.decorators),
            classes,
            chunk.doc,
        )

    def _members(
        self, chunks: Sequence[_Chunk]
    ) -> Tuple[
        Tuple[m.Module, ...], Tuple[m.Class, ...], Tuple[m.Function, ...], Tuple[m.Attribute, ...]
    ]:
        modules: List[m.Module] = []
        classes: List[m.Class] = []
        functions: List[m.Function] = []
        attributes: List[m.Attribute] = []
        for chunk in chunks:
            if isinstance(chunk, _Module):
                modules.append(self._module(chunk))
            elif isinstance(chunk, _Class):
                classes.append(self._class(chunk))
            elif isinstance(chunk, _Function):
                functions.append(self._function(chunk))
            else:
                attributes.append(
                    m.Attribute(
                        chunk.name,
                        self._optional(chunk.value),
                        self._optional(chunk.annotation),
                        chunk.doc,
                    )
                )
        # stable sorts: members with equal keys keep the symbol-table order
        modules.sort(key=lambda x: x.name)
        classes.sort(key=lambda x: x.name)
        functions.sort(key=lambda f: (f.name, [_decorator_key(d) for d in f.decorators]))
        attributes.sort(key=lambda x: x.name)
        return tuple(modules), tuple(classes), tuple(functions), tuple(attributes)

    def _function(self, chunk: _Function) -> m.Function:
        args = chunk.arguments
        return m.Function(
            chunk.name,
            m.Arguments(
                tuple(self._argument(a) for a in args.get("posonlyargs", [])),
                tuple(self._argument(a) for a in args.get("args", [])),
                self._variadic(args.get("vararg")),
                tuple(self._argument(a) for a in args.get("kwonlyargs", [])),
                self._variadic(args.get("kwarg")),
            ),
            tuple(self._expr(e) for e in chunk.decorators),
            self._optional(chunk.returns),
            chunk.is_async,
            chunk.doc,
        )

    def _argument(self, arg: Mapping[str, Any]) -> m.Argument:
        return m.Argument(
            arg["name"], self._optional(arg.get("default")), self._optional(arg.get("annotation"))
        )

    def _variadic(self, arg: Optional[Mapping[str, Any]]) -> Optional[m.VarArgument]:
        if arg is None:
            return None
        return m.VarArgument(arg["name"], self._optional(arg.get("annotation")))

    def _optional(self, expr: Any) -> Optional[m.Expr]:
        return None if expr is None else self._expr(expr)

    def _expr(self, expr: Mapping[str, Any]) -> m.Expr:
        kind = expr["type"]
        if kind == "constant":
            constant = expr["kind"]
            value = expr.get("value") if constant in ("bool", "int", "float", "str") else None
            return m.Constant(constant, value)
        if kind == "name":
            return m.Name(expr["id"])
        if kind == "attribute":
            return m.AttributeExpr(self._expr(expr["value"]), expr["attr"])
        if kind == "binop":
            return m.BinOp(self._expr(expr["left"]), self._expr(expr["right"]))
        if kind == "tuple":
            return m.TupleExpr(tuple(self._expr(e) for e in expr["elts"]))
        if kind == "list":
            return m.ListExpr(tuple(self._expr(e) for e in expr["elts"]))
        if kind == "subscript":
            return m.Subscript(self._expr(expr["value"]), self._expr(expr["slice"]))
        # an id: the class it names, or Any for a class the module does not expose
        return self.hints.get(expr["id"], m.any_type())


def _decorator_key(expr: m.Expr) -> Tuple[int, str]:
    """Orders methods of one name by decorator: ``@property`` before ``@x.setter``."""
    if isinstance(expr, m.Name):
        return 0, expr.id
    if isinstance(expr, m.AttributeExpr):
        depth, text = _decorator_key(expr.value)
        return depth + 1, f"{text}.{expr.attr}"
    return 0, ""
