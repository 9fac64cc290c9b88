"""What pyo3's introspection data describes: a module tree of classes,
functions and attributes, with type hints as small Python expressions.

Frozen dataclasses compare and hash by value, which the renderer relies on to
drop repeated members of a ``X | Y`` union.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

__all__ = [
    "Argument",
    "Arguments",
    "Attribute",
    "AttributeExpr",
    "BinOp",
    "Class",
    "Constant",
    "Expr",
    "Function",
    "ListExpr",
    "Module",
    "Name",
    "Subscript",
    "TupleExpr",
    "VarArgument",
    "any_type",
]


@dataclass(frozen=True)
class Constant:
    """A literal: ``kind`` is none, bool, int, float, str or ellipsis; numbers stay as written."""

    kind: str
    value: Union[bool, str, None] = None


@dataclass(frozen=True)
class Name:
    """A bare name, resolved against ``builtins``."""

    id: str


@dataclass(frozen=True)
class AttributeExpr:
    """``value.attr``; when ``value`` is a :class:`Name` it names a module and ``attr`` a member."""

    value: Expr
    attr: str


@dataclass(frozen=True)
class BinOp:
    """``left | right`` (the only operator pyo3 emits)."""

    left: Expr
    right: Expr
    op: str = "bitor"


@dataclass(frozen=True)
class TupleExpr:
    """``(a, b)``."""

    elts: Tuple[Expr, ...]


@dataclass(frozen=True)
class ListExpr:
    """``[a, b]``."""

    elts: Tuple[Expr, ...]


@dataclass(frozen=True)
class Subscript:
    """``value[slice]``."""

    value: Expr
    slice: Expr


Expr = Union[Constant, Name, AttributeExpr, BinOp, TupleExpr, ListExpr, Subscript]


def any_type() -> Expr:
    """``typing.Any``, for a reference to a class the module does not expose."""
    return AttributeExpr(Name("typing"), "Any")


@dataclass(frozen=True)
class Argument:
    """A named parameter with its optional default and annotation."""

    name: str
    default: Optional[Expr] = None
    annotation: Optional[Expr] = None


@dataclass(frozen=True)
class VarArgument:
    """``*args`` or ``**kwargs``."""

    name: str
    annotation: Optional[Expr] = None


@dataclass(frozen=True)
class Arguments:
    """A signature: positional-only, regular, ``*args``, keyword-only, ``**kwargs``."""

    posonly: Tuple[Argument, ...] = ()
    args: Tuple[Argument, ...] = ()
    vararg: Optional[VarArgument] = None
    kwonly: Tuple[Argument, ...] = ()
    kwarg: Optional[VarArgument] = None


@dataclass(frozen=True)
class Function:
    """A function or method."""

    name: str
    arguments: Arguments = Arguments()
    decorators: Tuple[Expr, ...] = ()
    returns: Optional[Expr] = None
    is_async: bool = False
    docstring: Optional[str] = None


@dataclass(frozen=True)
class Attribute:
    """A module constant or class attribute."""

    name: str
    value: Optional[Expr] = None
    annotation: Optional[Expr] = None
    docstring: Optional[str] = None


@dataclass(frozen=True)
class Class:
    """A class with its members, each kind sorted by name."""

    name: str
    bases: Tuple[Expr, ...] = ()
    methods: Tuple[Function, ...] = ()
    attributes: Tuple[Attribute, ...] = ()
    decorators: Tuple[Expr, ...] = ()
    inner_classes: Tuple[Class, ...] = ()
    docstring: Optional[str] = None


@dataclass(frozen=True)
class Module:
    """A module; ``incomplete`` when code pyo3 cannot see (``#[pymodule_init]``) may add members."""

    name: str
    modules: Tuple[Module, ...] = ()
    classes: Tuple[Class, ...] = ()
    functions: Tuple[Function, ...] = ()
    attributes: Tuple[Attribute, ...] = ()
    incomplete: bool = False
    docstring: Optional[str] = None
