"""Type stubs from pyo3's introspection data (``--generate-stubs``, ``generate-stubs``).

Unit tests render small models and read small ELF libraries that gcc builds
with hand-made introspection statics; the slow tests build the pyo3-stubs-*
crates (pyo3 0.30, ``experimental-inspect``) with maturin-nox and maturin 1.16,
compare the wheels and the ``.pyi`` bytes, and use the installed wheels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest
from conftest import CRATES, TARGET, cli, pip_install, run_check
from test_bindings import copy_crate, maturin_build, wheel_files

import maturin_nox
from maturin_nox.stubs import StubError, library_stubs, stub_arcnames
from maturin_nox.stubs import model as m
from maturin_nox.stubs.introspection import RawChunk, parse_chunks
from maturin_nox.stubs.render import module_stub_files, module_stubs

needs_gcc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None,
    reason="needs Linux and gcc",
)


def fn(name: str, *args: m.Argument, returns: m.Expr | None = None, **kw: object) -> m.Function:
    return m.Function(name, m.Arguments(args=tuple(args)), returns=returns, **kw)  # type: ignore[arg-type]


def attr(module: str, name: str) -> m.AttributeExpr:
    return m.AttributeExpr(m.Name(module), name)


INT = m.Name("int")


# --- rendering -------------------------------------------------------------------------------


def test_signature_has_every_parameter_kind_in_order():
    args = m.Arguments(
        posonly=(m.Argument("self"),),
        args=(m.Argument("a", annotation=INT), m.Argument("b", m.Constant("int", "2"))),
        vararg=m.VarArgument("rest", INT),
        kwonly=(m.Argument("flag", m.Constant("bool", False), m.Name("bool")),),
        kwarg=m.VarArgument("extra"),
    )
    module = m.Module("mod", functions=(m.Function("f", args, returns=m.Constant("none")),))
    assert module_stubs(module, []).splitlines()[-1] == (
        "def f(self, /, a: int, b=2, *rest: int, flag: bool = False, **extra) -> None: ..."
    )
    kwonly = m.Arguments(kwonly=(m.Argument("k"),))
    only = m.Module("mod", functions=(m.Function("g", kwonly, is_async=True),))
    assert module_stubs(only, []).splitlines()[-1] == "async def g(*, k): ..."


def test_module_layout_imports_all_and_blank_lines():
    rect = m.Class(
        "Rect",
        methods=(
            fn("area", returns=INT, docstring="The area."),
            m.Function("width", decorators=(m.Name("property"),), returns=INT),
        ),
        decorators=(attr("typing", "final"),),
    )
    module = m.Module(
        "shapes",
        classes=(m.Class("Empty"), rect),  # sorted, as the assembler hands them over
        functions=(fn("make", m.Argument("side", annotation=INT), returns=attr("shapes", "Rect")),),
        attributes=(m.Attribute("SIDES", m.Constant("int", "4"), attr("typing", "Final")),),
        docstring="Shapes.",
    )
    assert module_stubs(module, []) == (
        '"""\nShapes.\n"""\n'
        "\n"
        "from typing import Final, final\n"
        "\n"
        '__all__ = ["SIDES", "Empty", "Rect", "make"]\n'
        "\n"
        "SIDES: Final = 4\n"
        "class Empty: ...\n"
        "\n"
        "@final\n"
        "class Rect:\n"
        "    def area() -> int:\n"
        '        """\n'
        "        The area.\n"
        '        """\n'
        "    @property\n"
        "    def width() -> int: ...\n"
        "\n"
        "def make(side: int) -> Rect: ...\n"
    )


def test_clashing_imports_are_renamed_and_local_names_never_imported():
    module = m.Module(
        "pkg",
        classes=(m.Class("int"), m.Class("Path")),
        functions=(
            fn(
                "convert",
                m.Argument("a", annotation=INT),
                m.Argument("p", annotation=attr("pathlib", "Path")),
                m.Argument("q", annotation=attr("other", "Path2")),
                returns=m.TupleExpr((attr("pkg", "int"), attr("pkg", "Path"))),
            ),
        ),
    )
    lines = module_stubs(module, []).splitlines()
    assert lines[:3] == [
        "from builtins import int as int2",
        "from other import Path2",
        "from pathlib import Path as Path3",
    ]
    assert lines[-1] == "def convert(a: int2, p: Path3, q: Path2) -> (int, Path): ..."


def test_submodules_get_files_reexports_and_relative_imports():
    leaf = m.Module(
        "leaf",
        functions=(
            fn("top", returns=attr("root", "Top")),
            fn("mid", returns=attr("root.inner", "M")),
        ),
    )
    inner = m.Module("inner", modules=(leaf,), classes=(m.Class("M"),))
    root = m.Module("root", modules=(inner, m.Module("zeta")), classes=(m.Class("Top"),))
    files = module_stub_files(root)
    assert sorted(files) == ["__init__.pyi", "inner/__init__.pyi", "inner/leaf.pyi", "zeta.pyi"]
    assert "from . import inner as inner, zeta as zeta\n" in files["__init__.pyi"]
    assert files["inner/leaf.pyi"].startswith("from . import M\nfrom .. import Top\n")
    assert "from .. import Top" not in files["inner/__init__.pyi"]
    assert files["zeta.pyi"] == ""  # nothing was added to it: no __all__ either


def test_incomplete_module_gets_getattr_and_no_all():
    module = m.Module("mod", functions=(fn("f"),), incomplete=True)
    assert module_stubs(module, []) == (
        "from _typeshed import Incomplete\ndef f(): ...\ndef __getattr__(name: str) -> Incomplete: ...\n"
    )


def test_docstrings_are_escaped_without_padding_blank_lines():
    doc = 'Para one.\r\n\nSays """hi""" and C:\\path\x07\tend'
    module = m.Module("mod", functions=(fn("f", docstring=doc),))
    stub = module_stubs(module, [])
    body = stub.split("def f():\n", 1)[1]
    assert body == (
        '    """\n    Para one.\n\n    Says ""\\"hi""\\" and C:\\\\path\\x07\\tend\n    """\n'
    )


def test_expressions_render_like_python():
    union = m.BinOp(m.BinOp(INT, m.Constant("none")), INT)
    cases: List[Tuple[m.Expr, str]] = [
        (union, "int | None"),
        (m.TupleExpr((INT,)), "(int,)"),
        (m.Subscript(m.Name("tuple"), m.TupleExpr(())), "tuple[()]"),
        (m.Subscript(m.Name("dict"), m.TupleExpr((m.Name("str"), INT))), "dict[str, int]"),
        (m.Constant("float", "3"), "3."),
        (m.Constant("float", "1e5"), "1e5"),
        (m.Constant("str", 'a"b\\c\n\x01'), '"a\\"b\\\\c\\n\\x01"'),
        (m.Constant("ellipsis"), "..."),
        (m.ListExpr((m.Constant("bool", True),)), "[True]"),
    ]
    for expr, text in cases:
        module = m.Module("mod", attributes=(m.Attribute("X", expr),))
        assert module_stubs(module, []).splitlines()[-1] == f"X = {text}", text


def test_methods_of_one_name_sort_property_before_setter():
    chunks = [
        _module_chunk("1", "mod", ["2"]),
        {"type": "class", "id": "2", "name": "C"},
        _fn_chunk("w", parent="2", decorators=[_attr_expr("w", "setter")]),
        _fn_chunk("w", parent="2", decorators=[{"type": "name", "id": "property"}]),
        _fn_chunk("a", parent="2"),
    ]
    cls = _parse(chunks, "mod").classes[0]
    assert [(f.name, len(f.decorators)) for f in cls.methods] == [("a", 0), ("w", 1), ("w", 1)]
    assert cls.methods[1].decorators == (m.Name("property"),)


# --- assembling chunks ------------------------------------------------------------------------


def _module_chunk(id_: str, name: str, members: List[str], **extra: object) -> Dict[str, object]:
    return {"type": "module", "id": id_, "name": name, "members": members, **extra}


def _fn_chunk(name: str, **extra: object) -> Dict[str, object]:
    return {"type": "function", "name": name, "arguments": {}, **extra}


def _attr_expr(module: str, name: str) -> Dict[str, object]:
    return {"type": "attribute", "value": {"type": "name", "id": module}, "attr": name}


def _raw(chunks: Sequence[object]) -> List[RawChunk]:
    return [
        RawChunk(f"PYO3_INTROSPECTION_1_{i}", json.dumps(c).encode()) for i, c in enumerate(chunks)
    ]


def _parse(chunks: Sequence[object], name: str) -> m.Module:
    return parse_chunks(_raw(chunks), name, "lib.so")


def test_ids_resolve_to_classes_by_their_module_path():
    chunks = [
        _module_chunk("1", "root", ["2", "3", "5"]),
        {"type": "class", "id": "2", "name": "Outer"},
        {"type": "class", "id": "4", "name": "Inner", "parent": "2"},
        _module_chunk("3", "sub", ["6"]),
        {"type": "class", "id": "6", "name": "Leaf"},
        _fn_chunk(
            "f",
            id="5",
            returns={
                "type": "tuple",
                "elts": [{"type": "id", "id": i} for i in ("2", "4", "6", "hidden")],
            },
        ),
    ]
    module = _parse(chunks, "root")
    assert module.functions[0].returns == m.TupleExpr(
        (attr("root", "Outer"), attr("root", "Outer.Inner"), attr("root.sub", "Leaf"), m.any_type())
    )
    assert [c.name for c in module.classes[0].inner_classes] == ["Inner"]
    stub = module_stubs(module, []).splitlines()
    assert stub[:3] == [
        "from . import sub as sub",
        "from .sub import Leaf",
        "from typing import Any",
    ]
    assert stub[-1] == "def f() -> (Outer, Outer.Inner, Leaf, Any): ..."


def test_a_missing_member_makes_the_module_incomplete_and_members_sort_by_name():
    chunks = [
        _module_chunk("1", "root", ["3", "2", "gone"]),
        _fn_chunk("zeta", id="2"),
        _fn_chunk("alpha", id="3"),
        {"type": "attribute", "name": "B", "parent": "1"},
    ]
    module = _parse(chunks, "root")
    assert module.incomplete
    assert [f.name for f in module.functions] == ["alpha", "zeta"]
    assert [a.name for a in module.attributes] == ["B"]


@pytest.mark.parametrize(
    ("chunk", "detail"),
    [
        ({"type": "module", "id": "1", "name": "root"}, "the module has no 'members'"),
        ({"type": "klass", "id": "1"}, "its type 'klass' is not"),
        (_fn_chunk("f", returns={"type": "constant", "kind": "complex"}), "unknown kind 'complex'"),
        (_fn_chunk("f", decorators={"type": "name"}), "'decorators' is not a list"),
        ({"type": "function", "name": "f"}, "the function has no 'arguments'"),
        (_fn_chunk("f", **{"async": "yes"}), "'async' is not true or false"),
    ],
)
def test_malformed_chunks_fail_in_one_sentence(chunk, detail):
    with pytest.raises(StubError) as info:
        _parse([_module_chunk("0", "root", []), chunk], "root")
    message = str(info.value)
    assert message.startswith(
        "lib.so: pyo3 introspection chunk PYO3_INTROSPECTION_1_1 is malformed"
    )
    assert detail in message and message.endswith(".") and "\n" not in message


def test_not_json_and_wrong_module_name_fail_in_one_sentence():
    with pytest.raises(StubError, match=r"is malformed: it is not valid JSON"):
        parse_chunks([RawChunk("PYO3_INTROSPECTION_1_0", b"{nope")], "root", "lib.so")
    with pytest.raises(StubError) as info:
        _parse([_module_chunk("1", "other", [])], "root")
    assert str(info.value) == (
        "lib.so holds pyo3 introspection data only for 'other', not for 'root', "
        "the extension module the project names."
    )
    with pytest.raises(StubError, match="makes 'root' a member of itself"):
        _parse([_module_chunk("1", "root", ["1"])], "root")


# --- reading ELF libraries (gcc builds them) ---------------------------------------------------


def _library(path: Path, chunks: Sequence[Tuple[str, bytes]], *, lie: int = 0) -> Path:
    """A shared library holding each (symbol, bytes) as pyo3 lays out an introspection static."""
    lines = ["#include <stdint.h>"]
    for i, (symbol, data) in enumerate(chunks):
        body = ",".join(str(b) for b in data) or "0"
        lines.append(f"struct c{i} {{ uint32_t len; unsigned char d[{max(len(data), 1)}]; }};")
        lines.append(
            f"__attribute__((used)) const struct c{i} {symbol} = {{ {len(data) + lie}, {{ {body} }} }};"
        )
    source = path.with_suffix(".c")
    source.write_text("\n".join(lines) + "\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(path), str(source)], check=True)
    return path


def _chunks_of(*chunks: object) -> List[Tuple[str, bytes]]:
    return [(f"PYO3_INTROSPECTION_1_{i}", json.dumps(c).encode()) for i, c in enumerate(chunks)]


@needs_gcc
def test_stubs_are_read_from_the_symbol_table_of_an_elf_library(tmp_path):
    chunks = _chunks_of(
        _module_chunk("1", "tiny", ["2"], doc="Tiny."),
        _fn_chunk("f", id="2", returns=_attr_expr("builtins", "int")),
        _fn_chunk("noise"),  # a chunk nothing points at is read but not rendered
    )
    lib = _library(tmp_path / "libtiny.so", chunks)
    assert library_stubs(lib, "tiny") == {
        "__init__.pyi": '"""\nTiny.\n"""\n\n__all__ = ["f"]\n\ndef f() -> int: ...\n'
    }
    stripped = tmp_path / "stripped.so"
    subprocess.run(["strip", "-o", str(stripped), str(lib)], check=True)
    with pytest.raises(StubError) as info:
        library_stubs(stripped, "tiny")
    assert str(info.value) == (
        f"{stripped} holds no pyo3 introspection data; enable pyo3's experimental-inspect "
        "feature and do not strip the library."
    )


@needs_gcc
def test_unreadable_introspection_statics_fail_in_one_sentence(tmp_path):
    newer = _library(tmp_path / "v2.so", [("PYO3_INTROSPECTION_2_0", b"{}")])
    with pytest.raises(StubError, match=r"in format '2' \(symbol PYO3_INTROSPECTION_2_0\)"):
        library_stubs(newer, "tiny")
    too_long = _library(tmp_path / "long.so", _chunks_of(_module_chunk("1", "t", [])), lie=10**6)
    with pytest.raises(StubError, match="more than the file holds"):
        library_stubs(too_long, "t")
    text = tmp_path / "notelf.so"
    text.write_text("hello")
    with pytest.raises(StubError, match="is not an ELF library"):
        library_stubs(text, "t")


# --- where stubs go in a wheel ---------------------------------------------------------------


@dataclass
class _Layout:
    module_name: str
    mixed: bool


@pytest.mark.parametrize(
    ("module_name", "mixed", "files", "expected"),
    [
        (
            "pkg",
            False,
            ["__init__.pyi", "sub.pyi"],
            ["pkg/__init__.pyi", "pkg/py.typed", "pkg/sub.pyi"],
        ),
        ("pkg", True, ["__init__.pyi"], ["pkg/pkg.pyi"]),
        ("pkg._native", True, ["__init__.pyi"], ["pkg/_native.pyi"]),
        (
            "pkg._native",
            True,
            ["__init__.pyi", "s.pyi"],
            ["pkg/_native/__init__.pyi", "pkg/_native/s.pyi"],
        ),
    ],
)
def test_stub_archive_names_follow_maturin(module_name, mixed, files, expected):
    parts = module_name.split(".")
    ext = "/".join(parts) if len(parts) > 1 else f"{parts[0]}/{parts[0]}"
    arcnames = stub_arcnames(_Layout(module_name, mixed), dict.fromkeys(files, "x"), ext + ".so")  # type: ignore[arg-type]
    assert sorted(arcnames) == expected


# --- real crates, against maturin 1.16 ----------------------------------------------------------


STUB_CRATES = {
    "pyo3-stubs-pure": [
        "pyo3_stubs_pure/__init__.pyi",
        "pyo3_stubs_pure/py.typed",
        "pyo3_stubs_pure/units.pyi",
    ],
    "pyo3-stubs-mixed": ["pyo3_stubs_mixed/_native.pyi"],
}


def _stub_names(names: Sequence[str]) -> List[str]:
    return sorted(n for n in names if n.endswith((".pyi", "py.typed")))


@pytest.mark.slow
@pytest.mark.parametrize("crate", sorted(STUB_CRATES))
def test_generated_stubs_match_maturin_and_install(
    crate, wheel_builder, fresh_venv, tmp_path, maturin_target
):
    (wheel,) = wheel_builder(crate, ("3.12",), generate_stubs=True)
    ours = wheel_files(wheel.path)
    assert _stub_names(list(ours)) == STUB_CRATES[crate]
    (theirs,) = maturin_build(
        CRATES / crate / "Cargo.toml",
        tmp_path / "m",
        maturin_target,
        "-i",
        "3.12",
        "--generate-stubs",
    )
    assert ours == wheel_files(theirs)
    with zipfile.ZipFile(wheel.path) as a, zipfile.ZipFile(theirs) as b:
        for name in ours:
            if name.endswith((".py", ".pyi", "py.typed")):
                assert a.read(name) == b.read(name), name
    python = fresh_venv("3.12")
    pip_install(python, str(wheel.path))
    assert f"OK {crate}" in run_check(python, crate, tmp_path)


@pytest.mark.slow
def test_without_the_flag_the_hand_written_stub_is_packed_as_maturin_does(
    wheel_builder, tmp_path, maturin_target
):
    (wheel,) = wheel_builder("pyo3-stubs-pure", ("3.12",))
    ours = wheel_files(wheel.path)
    assert _stub_names(list(ours)) == ["pyo3_stubs_pure/__init__.pyi", "pyo3_stubs_pure/py.typed"]
    manifest = CRATES / "pyo3-stubs-pure" / "Cargo.toml"
    (theirs,) = maturin_build(manifest, tmp_path / "m", maturin_target, "-i", "3.12")
    assert ours == wheel_files(theirs)
    with zipfile.ZipFile(wheel.path) as zf:
        stub = zf.read("pyo3_stubs_pure/__init__.pyi")
    assert stub == (CRATES / "pyo3-stubs-pure" / "pyo3_stubs_pure.pyi").read_bytes()


@pytest.mark.slow
def test_generate_stubs_command_writes_what_maturin_writes(tmp_path, maturin_target):
    for crate, written in (
        ("pyo3-stubs-pure", ["pyo3_stubs_pure/__init__.pyi", "pyo3_stubs_pure/units.pyi"]),
        ("pyo3-stubs-mixed", ["pyo3_stubs_mixed/_native.pyi"]),
    ):
        ours, theirs = tmp_path / crate / "ours", tmp_path / crate / "theirs"
        (ours / "pyo3_stubs_pure").mkdir(parents=True)
        (ours / "pyo3_stubs_pure" / "stale.pyi").write_text("# gone when the folder is replaced\n")
        manifest = str(CRATES / crate / "Cargo.toml")
        proc = cli(
            "generate-stubs",
            "-m",
            manifest,
            "-i",
            "3.12",
            "--target-dir",
            str(TARGET),
            "-o",
            str(ours),
        )
        assert proc.returncode == 0, proc.stderr
        env = {**os.environ, "CARGO_TARGET_DIR": str(maturin_target)}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run(
            ["maturin", "generate-stubs", "-m", manifest, "-i", "3.12", "-o", str(theirs)],
            check=True,
            capture_output=True,
            env=env,
        )
        found = sorted(p.relative_to(ours).as_posix() for p in ours.rglob("*.pyi"))
        if crate == "pyo3-stubs-mixed":
            found.remove("pyo3_stubs_pure/stale.pyi")  # not this crate's folder: left alone
        assert found == written
        for relpath in written:
            assert (ours / relpath).read_bytes() == (theirs / relpath).read_bytes(), relpath


@pytest.mark.slow
def test_generate_stubs_from_a_built_library(wheel_builder, tmp_path):
    (wheel,) = wheel_builder("pyo3-stubs-mixed", ("3.12",), generate_stubs=True)
    with zipfile.ZipFile(wheel.path) as zf:
        expected = zf.read("pyo3_stubs_mixed/_native.pyi")
        library = next(n for n in zf.namelist() if n.endswith(".so"))
        (tmp_path / "native.so").write_bytes(zf.read(library))
    manifest = str(CRATES / "pyo3-stubs-mixed" / "Cargo.toml")
    proc = cli(
        "generate-stubs",
        "-m",
        manifest,
        "--lib",
        str(tmp_path / "native.so"),
        "-o",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "pyo3_stubs_mixed" / "_native.pyi").read_bytes() == expected
    proc = cli(
        "generate-stubs", "-m", manifest, "--lib", "x.so", "-i", "3.12", "-o", str(tmp_path / "o")
    )
    assert proc.returncode == 1 and "--lib reads a library that is already built" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_develop_writes_the_stub_beside_the_sources_and_a_different_one_stops_a_build(
    tmp_path, fresh_venv
):
    crate = copy_crate("pyo3-stubs-mixed", tmp_path / "crate")
    python = fresh_venv("3.12")
    result = maturin_nox.develop(
        manifest_path=crate, env_path=python.parent.parent, target_dir=TARGET, generate_stubs=True
    )
    assert result.editable
    stub = crate / "python" / "pyo3_stubs_mixed" / "_native.pyi"
    assert "class Shelf:" in stub.read_text()
    # the same stub (what develop left) is fine; a different one is refused, as maturin does
    out = tmp_path / "out"
    (wheel,) = maturin_nox.build(
        manifest_path=crate,
        interpreters=["3.12"],
        out_dir=out,
        target_dir=TARGET,
        generate_stubs=True,
    )
    with zipfile.ZipFile(wheel.path) as zf:
        assert zf.read("pyo3_stubs_mixed/_native.pyi") == stub.read_bytes()
    wheel.path.unlink()
    stub.write_text("x: int\n")
    with pytest.raises(StubError) as info:
        maturin_nox.build(
            manifest_path=crate,
            interpreters=["3.12"],
            out_dir=out,
            target_dir=TARGET,
            generate_stubs=True,
        )
    assert str(info.value) == (
        f"{stub} is already in the wheel where --generate-stubs puts the stub "
        "pyo3_stubs_mixed/_native.pyi; delete it or build without --generate-stubs."
    )
    assert not list(out.glob("*.whl"))


@pytest.mark.slow
def test_generate_stubs_without_introspection_data_fails_in_one_sentence(tmp_path):
    out = tmp_path / "out"
    proc = cli(
        "build", "-m", str(CRATES / "pyo3-pure" / "Cargo.toml"), "-i", "3.12", "--generate-stubs",
        "--target-dir", str(TARGET), "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("💥 maturin-nox failed: ") and last.endswith(
        "holds no pyo3 introspection data; enable pyo3's experimental-inspect feature "
        "and do not strip the library."
    )
    assert "Traceback" not in proc.stderr and not list(out.glob("*.whl"))


def test_the_flag_reaches_the_engine_from_the_backend_and_the_command_line(monkeypatch):
    from maturin_nox import backend
    from maturin_nox.cli import build_parser
    from maturin_nox.options import options_from_args as build_options

    assert backend.hook_options({"build-args": "--generate-stubs"}).generate_stubs
    monkeypatch.setenv("MATURIN_PEP517_ARGS", "--generate-stubs")
    assert backend.hook_options(None).generate_stubs
    for command in ("build", "develop", "publish"):
        args = build_parser([command]).parse_args([command, "--generate-stubs"])
        assert build_options(args).generate_stubs, command
    assert not build_options(build_parser(["build"]).parse_args(["build"])).generate_stubs


def test_generate_stubs_needs_an_out_folder():
    proc = cli("generate-stubs")
    assert proc.returncode == 2 and "-o/--out" in proc.stderr


@pytest.mark.slow
def test_generate_stubs_of_a_cffi_project_fails_in_one_sentence(tmp_path):
    proc = cli(
        "generate-stubs", "-m", str(CRATES / "cffi-pure" / "Cargo.toml"), "-o", str(tmp_path / "o")
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().endswith(
        "Stub generation is only possible for pyo3 projects; "
        f"{CRATES / 'cffi-pure' / 'Cargo.toml'} uses cffi bindings."
    )
    assert not (tmp_path / "o").exists()
