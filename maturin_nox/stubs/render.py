"""Writing ``.pyi`` text from a :class:`~maturin_nox.stubs.model.Module`, byte for byte as
pyo3-introspection 0.30 (what maturin 1.16 uses) writes it.

The root module goes to ``__init__.pyi``; a submodule without submodules of its
own to ``<name>.pyi`` beside it, one with submodules to ``<name>/__init__.pyi``.
Each file imports what its type hints name (``from typing import Final``),
renaming an import that would clash with a local name (``int2``), and
re-exports its submodules.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple

from . import model as m
from .introspection import StubError

__all__ = ["module_stub_files", "module_stubs"]

_U64_MAX = 2**64 - 1


def module_stub_files(module: m.Module) -> Dict[str, str]:
    """Every stub file of the module tree, by relative POSIX path."""
    files: Dict[str, str] = {}
    _add_files(module, "", [], files)
    return files


def _add_files(module: m.Module, directory: str, parents: List[str], files: Dict[str, str]) -> None:
    files[f"{directory}__init__.pyi"] = module_stubs(module, parents)
    parents = [*parents, module.name]
    for sub in module.modules:
        if not sub.modules:
            files[f"{directory}{sub.name}.pyi"] = module_stubs(sub, parents)
        else:
            _add_files(sub, f"{directory}{sub.name}/", parents, files)


def _getattr_function() -> m.Function:
    """``def __getattr__(name: str) -> Incomplete``: marks a module whose stubs may miss members."""
    return m.Function(
        "__getattr__",
        m.Arguments(args=(m.Argument("name", annotation=m.Name("str")),)),
        returns=m.AttributeExpr(m.Name("_typeshed"), "Incomplete"),
    )


def module_stubs(module: m.Module, parents: Sequence[str]) -> str:
    """The text of one module's stub file; ``parents`` are the names of the enclosing modules."""
    imports = _Imports(module, parents)
    elements = [_attribute(a, imports) for a in module.attributes]
    elements += [_class(c, imports) for c in module.classes]
    elements += [_function(f, imports, None) for f in module.functions]
    if module.incomplete and not any(f.name == "__getattr__" for f in module.functions):
        elements.append(_function(_getattr_function(), imports, None))

    head: List[str] = []
    if module.docstring is not None:
        head.append(_docstring("", "", module.docstring))
    head += imports.lines
    dunder_all = _dunder_all(module, imports)
    if dunder_all is not None:
        head.append(dunder_all)

    # blank lines go around multi-line elements and __all__ only
    out = ""
    for element in head + elements:
        spaced = "\n" in element or element.startswith("__all__")
        if spaced and out and not out.endswith("\n\n"):
            out += "\n"
        out += element + "\n"
        if spaced:
            out += "\n"
    if out.endswith("\n\n"):
        out = out[:-1]
    return out


def _dunder_all(module: m.Module, imports: _Imports) -> Optional[str]:
    """``__all__``, when the stub knows every member (pyo3's ``add`` fills it at run time)."""
    if module.incomplete or any(a.name == "__all__" for a in module.attributes):
        return None
    names = [a.name for a in module.attributes]
    names += [c.name for c in module.classes]
    names += [f.name for f in module.functions]
    names += [s.name for s in module.modules]
    if not names:
        return None
    listed = m.ListExpr(tuple(m.Constant("str", n) for n in names))
    return "__all__ = " + imports.expr(listed)


def _class(cls: m.Class, imports: _Imports) -> str:
    out = "".join(f"@{imports.expr(d)}\n" for d in cls.decorators)
    out += f"class {cls.name}"
    if cls.bases:
        out += "(" + ", ".join(imports.expr(b) for b in cls.bases) + ")"
    out += ":"
    if cls.docstring is None and not (cls.methods or cls.attributes or cls.inner_classes):
        out += " ..."
    if cls.docstring is not None:
        out = _docstring(out, "    ", cls.docstring)
    for attribute in cls.attributes:
        out += "\n    " + _indented("    ", _attribute(attribute, imports))
    for method in cls.methods:
        out += "\n    " + _indented("    ", _function(method, imports, cls.name))
    for inner in cls.inner_classes:
        out += "\n    " + _indented("    ", _class(inner, imports))
    return out


def _function(function: m.Function, imports: _Imports, class_name: Optional[str]) -> str:
    args = function.arguments
    params = [_argument(a, imports) for a in args.posonly]
    if args.posonly:
        params.append("/")
    params += [_argument(a, imports) for a in args.args]
    if args.vararg is not None:
        params.append("*" + _variadic(args.vararg, imports))
    elif args.kwonly:
        params.append("*")
    params += [_argument(a, imports) for a in args.kwonly]
    if args.kwarg is not None:
        params.append("**" + _variadic(args.kwarg, imports))
    out = ""
    for decorator in function.decorators:
        text = imports.expr(decorator)
        # a decorator naming its own class (``Rect.width.setter``) reads better without it
        if class_name is not None and text.startswith(f"{class_name}."):
            text = text[len(class_name) + 1 :]
        out += f"@{text}\n"
    if function.is_async:
        out += "async "
    out += f"def {function.name}({', '.join(params)})"
    if function.returns is not None:
        out += " -> " + imports.expr(function.returns)
    if function.docstring is not None:
        return _docstring(out + ":", "    ", function.docstring)
    return out + ": ..."


def _attribute(attribute: m.Attribute, imports: _Imports) -> str:
    out = attribute.name
    if attribute.annotation is not None:
        out += ": " + imports.expr(attribute.annotation)
    if attribute.value is not None:
        out += " = " + imports.expr(attribute.value)
    if attribute.docstring is not None:
        out = _docstring(out, "", attribute.docstring)
    return out


def _argument(argument: m.Argument, imports: _Imports) -> str:
    out = argument.name
    if argument.annotation is not None:
        out += ": " + imports.expr(argument.annotation)
    if argument.default is not None:
        out += (" = " if argument.annotation is not None else "=") + imports.expr(argument.default)
    return out


def _variadic(argument: m.VarArgument, imports: _Imports) -> str:
    if argument.annotation is None:
        return argument.name
    return f"{argument.name}: {imports.expr(argument.annotation)}"


def _indented(indent: str, text: str) -> str:
    """Indent every line but the first (already placed by the caller); blank lines stay empty."""
    lines = text.split("\n")
    return "\n".join([lines[0]] + [indent + line if line else "" for line in lines[1:]])


def _rust_lines(text: str) -> List[str]:
    """Rust's ``str::lines``: split at ``\\n`` or ``\\r\\n``; a final line ending adds no empty line."""
    pieces = text.split("\n")
    lines = [p[:-1] if p.endswith("\r") else p for p in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])  # no line ending after it, so a trailing \r stays
    return lines


def _escape_docstring_char(char: str) -> str:
    """Rust's ``ascii::escape_default`` for a control character or a backslash."""
    special = {"\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\"}
    return special.get(char, f"\\x{ord(char):02x}")


def _docstring(out: str, indent: str, docstring: str) -> str:
    """Append a ``\"\"\"``-quoted docstring on its own lines, escaping what would end or break it."""
    if out:
        out += "\n"
    out += indent + '"""'
    for line in _rust_lines(docstring):
        out += "\n"
        if not line:
            continue
        out += indent
        quotes = 0
        for char in line:
            quotes = quotes + 1 if char == '"' else 0
            if quotes == 3:
                out += "\\"
                quotes = 0
            if char == "\\" or ord(char) < 0x20 or ord(char) == 0x7F:
                out += _escape_docstring_char(char)
            else:
                out += char
    return out + "\n" + indent + '"""'


def _flatten_union(expr: m.Expr, operands: List[m.Expr], seen: Set[m.Expr]) -> None:
    """The operands of a ``|`` chain in source order, each once."""
    if isinstance(expr, m.BinOp):
        _flatten_union(expr.left, operands, seen)
        _flatten_union(expr.right, operands, seen)
    elif expr not in seen:
        seen.add(expr)
        operands.append(expr)


def _escape_str(value: str) -> str:
    out = '"'
    for char in value:
        if char == '"':
            out += '\\"'
        elif char == "\n":
            out += "\\n"
        elif char == "\r":
            out += "\\r"
        elif char == "\t":
            out += "\\t"
        elif char == "\\":
            out += "\\\\"
        elif char == "\0":
            out += "\\0"
        elif ord(char) < 0x20:
            out += f"\\x{ord(char):02x}"
        else:
            out += char
    return out + '"'


class _Imports:
    """The import lines of one stub file and the local name of every referenced member."""

    def __init__(self, module: m.Module, parents: Sequence[str]) -> None:
        referenced = _referenced_names(module)
        is_package = bool(module.modules)
        current = ".".join([*parents, module.name])
        self.renaming: Dict[Tuple[str, str], str] = {}
        lines: List[str] = []
        # local names are never imported nor renamed; imports are renamed around them
        taken: Dict[str, Tuple[str, str]] = {}
        for name in (
            [c.name for c in module.classes]
            + [f.name for f in module.functions]
            + [a.name for a in module.attributes]
            + [s.name for s in module.modules]
        ):
            taken[name] = (current, name)
        for source in sorted(referenced):
            names: List[str] = []
            for attr in sorted(referenced[source]):
                root, dot, path = attr.partition(".")  # nested class A.B: import A
                local = root
                imported = False
                while local in taken:
                    if taken[local] == (source, root):
                        imported = True
                        break
                    local = _next_name(local)
                self.renaming[(source, attr)] = f"{local}.{path}" if dot else local
                if not imported:
                    taken[local] = (source, root)
                    if not (source == "builtins" and local == root):
                        names.append(root if local == root else f"{root} as {local}")
            if names:
                relative = _relative_module(source, current, is_package)
                lines.append(f"from {relative} import {', '.join(names)}")
        if is_package:
            subs = sorted(f"{s.name} as {s.name}" for s in module.modules)
            lines.append(f"from . import {', '.join(subs)}")
        self.lines = sorted(lines)

    def _local(self, source: str, attr: str) -> str:
        try:
            return self.renaming[(source, attr)]
        except KeyError:  # every referenced name was collected first; this is a bug
            raise StubError(f"Stub generation found no import for {source}.{attr}.") from None

    def expr(self, expr: m.Expr) -> str:
        """The Python source of a type hint or value, with imported names as renamed."""
        if isinstance(expr, m.Constant):
            return _constant(expr)
        if isinstance(expr, m.Name):
            return self._local("builtins", expr.id)
        if isinstance(expr, m.AttributeExpr):
            if isinstance(expr.value, m.Name):
                return self._local(expr.value.id, expr.attr)
            return f"{self.expr(expr.value)}.{expr.attr}"
        if isinstance(expr, m.BinOp):
            operands: List[m.Expr] = []
            _flatten_union(expr, operands, set())
            return " | ".join(self.expr(o) for o in operands)
        if isinstance(expr, m.TupleExpr):
            inner = ", ".join(self.expr(e) for e in expr.elts)
            return f"({inner},)" if len(expr.elts) == 1 else f"({inner})"
        if isinstance(expr, m.ListExpr):
            return "[" + ", ".join(self.expr(e) for e in expr.elts) + "]"
        if isinstance(expr.slice, m.TupleExpr):
            elts = expr.slice.elts
            inner = ", ".join(self.expr(e) for e in elts) if elts else "()"
        else:
            inner = self.expr(expr.slice)
        return f"{self.expr(expr.value)}[{inner}]"


def _constant(constant: m.Constant) -> str:
    kind, value = constant.kind, constant.value
    if kind == "none":
        return "None"
    if kind == "bool":
        return "True" if value else "False"
    if kind == "ellipsis":
        return "..."
    assert isinstance(value, str)
    if kind == "int":
        return value
    if kind == "float":
        # a float written like an int gets a dot, so it does not read as one
        return value if any(c in value for c in ".eE") else value + "."
    return _escape_str(value)


def _next_name(name: str) -> str:
    """``Foo`` -> ``Foo2`` -> ``Foo3``: the next candidate for a clashing import."""
    digits = len(name) - len(name.rstrip("0123456789"))
    prefix, number = name[: len(name) - digits], name[len(name) - digits :]
    value = int(number) if number and int(number) <= _U64_MAX else 1
    return f"{prefix}{(value + 1) & _U64_MAX}"


def _referenced_names(module: m.Module) -> Dict[str, Set[str]]:
    """Module -> member names that the module's stub mentions (bare names count as builtins)."""
    found: Dict[str, Set[str]] = {}

    def expr(e: m.Expr) -> None:
        if isinstance(e, m.Name):
            found.setdefault("builtins", set()).add(e.id)
        elif isinstance(e, m.AttributeExpr):
            if isinstance(e.value, m.Name):
                found.setdefault(e.value.id, set()).add(e.attr)
            else:
                expr(e.value)
        elif isinstance(e, m.BinOp):
            expr(e.left)
            expr(e.right)
        elif isinstance(e, m.Subscript):
            expr(e.value)
            expr(e.slice)
        elif isinstance(e, (m.TupleExpr, m.ListExpr)):
            for elt in e.elts:
                expr(elt)

    def optional(e: Optional[m.Expr]) -> None:
        if e is not None:
            expr(e)

    def function(f: m.Function) -> None:
        for d in f.decorators:
            expr(d)
        a = f.arguments
        for arg in (*a.posonly, *a.args, *a.kwonly):
            optional(arg.annotation)
            optional(arg.default)
        for var in (a.vararg, a.kwarg):
            if var is not None:
                optional(var.annotation)
        optional(f.returns)

    def attribute(a: m.Attribute) -> None:
        optional(a.annotation)
        optional(a.value)

    def cls(c: m.Class) -> None:
        for e in (*c.bases, *c.decorators):
            expr(e)
        for method in c.methods:
            function(method)
        for a in c.attributes:
            attribute(a)
        for inner in c.inner_classes:
            cls(inner)

    for a in module.attributes:
        attribute(a)
    for c in module.classes:
        cls(c)
    for f in module.functions:
        function(f)
    if module.incomplete:
        found.setdefault("builtins", set()).add("str")
        found.setdefault("_typeshed", set()).add("Incomplete")
    return found


def _relative_module(target: str, current: str, current_is_package: bool) -> str:
    """How ``current`` imports from ``target``: relative when they share the first component."""
    if target == current:
        raise StubError(f"Stub generation would import {current} from itself.")
    target_parts = target.split(".")
    current_parts = current.split(".")
    if target_parts[0] != current_parts[0]:
        return target
    common = 0
    while (
        common < len(target_parts)
        and common < len(current_parts)
        and target_parts[common] == current_parts[common]
    ):
        common += 1
    dots = "." * (len(current_parts) - common + (1 if current_is_package else 0))
    return dots + ".".join(target_parts[common:])
