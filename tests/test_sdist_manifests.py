"""Manifest edits for sdists: the in-place TOML editor (comments and layout kept where
maturin's toml_edit keeps them) and the rewrites built on it (targets, inheritance)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from maturin_nox.errors import ProjectError
from maturin_nox.sdist.manifests import (
    inline_workspace_fields,
    prune_targets,
    resolved_dependency,
)
from maturin_nox.sdist.tomledit import TomlEdit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WHERE = Path("Cargo.toml")

TRICKY = """\
# leading comment
title = "x"   # trailing
"quoted.key" = 'literal'
multi = \"\"\"
[not a table]
key = "not a key" \"\"\"
arr = [
    "a", # one
    [1, 2], { x = "]" },
]
dotted.key = 1

[package]
name = "demo"

  [package.metadata.docs]   # indented header
  all = true

[[bin]]
name = "a"

[bin.extra]
x = 1

[[bin]]
name = "b"
"""


def _doc(text: str) -> TomlEdit:
    return TomlEdit(text, WHERE)


def test_an_untouched_document_is_written_back_byte_for_byte() -> None:
    doc = _doc(TRICKY)
    assert doc.text() == TRICKY and not doc.changed() and doc.kept_layout
    assert doc.get("bin", 0, "extra", "x") == 1
    assert doc.raw_value("arr") == '[\n    "a", # one\n    [1, 2], { x = "]" },\n]'


def test_a_replaced_value_keeps_its_key_and_the_comments_above_but_not_its_own() -> None:
    doc = _doc('[package]\nname = "x"\n# the readme\n  readme   = "../../README.md"  # up\n')
    doc.set(("package", "readme"), "README.md")
    assert doc.text() == '[package]\nname = "x"\n# the readme\n  readme   = "README.md"\n'


def test_a_dotted_key_is_replaced_in_place() -> None:
    doc = _doc('[package]\nname = "x"\nedition.workspace = true\nversion = "1"\n')
    doc.set(("package", "edition"), "2021", fresh_key=True)
    assert doc.text() == '[package]\nname = "x"\nedition = "2021"\nversion = "1"\n'


def test_a_fresh_key_drops_the_comments_above_it() -> None:
    doc = _doc("[dependencies]\n# shared\nlog = { workspace = true }\n")
    doc.set(("dependencies", "log"), "^0.4", fresh_key=True)
    assert doc.text() == '[dependencies]\nlog = "^0.4"\n'


def test_a_new_key_goes_after_the_last_key_of_its_table() -> None:
    doc = _doc('[package]\nname = "x"\n\n# about deps\n[dependencies]\n')
    doc.set(("package", "readme"), "README.md")
    assert (
        doc.text()
        == '[package]\nname = "x"\nreadme = "README.md"\n\n# about deps\n[dependencies]\n'
    )


def test_new_tables_are_explicit_at_every_missing_level() -> None:
    doc = _doc('[build-system]\nrequires = ["maturin"]\n')
    doc.set(("tool", "maturin", "manifest-path"), "crate/Cargo.toml")
    assert doc.text() == (
        '[build-system]\nrequires = ["maturin"]\n\n[tool]\n\n[tool.maturin]\n'
        'manifest-path = "crate/Cargo.toml"\n'
    )


def test_a_new_table_follows_its_siblings() -> None:
    doc = _doc("[tool.black]\nline = 1\n\n[tool.black.x]\ny = 2\n\n[project]\nname = 'p'\n")
    doc.set(("tool", "maturin", "bindings"), "bin")
    assert doc.text() == (
        "[tool.black]\nline = 1\n\n[tool.black.x]\ny = 2\n\n[tool.maturin]\nbindings = "
        "\"bin\"\n\n[project]\nname = 'p'\n"
    )


def test_removing_array_elements_takes_their_comments_and_subtables() -> None:
    doc = _doc(TRICKY)
    doc.remove(("bin", 0))
    assert '[[bin]]\nname = "a"' not in doc.text() and "[bin.extra]" not in doc.text()
    assert doc.text().endswith(
        '[package.metadata.docs]   # indented header\n  all = true\n\n[[bin]]\nname = "b"\n'
    )
    doc.remove(("bin", 0))
    doc.remove(("bin",))
    assert "bin" not in tomllib.loads(doc.text()) and doc.kept_layout


def test_unsupported_shapes_fall_back_to_the_plain_writer_and_stay_correct() -> None:
    doc = _doc('tool = { maturin = { bindings = "bin" } }\n# comment\n')
    doc.set(("tool", "maturin", "python-source"), "python")
    assert not doc.kept_layout
    assert tomllib.loads(doc.text()) == {
        "tool": {"maturin": {"bindings": "bin", "python-source": "python"}}
    }


def test_tables_are_copied_as_written_under_a_new_name() -> None:
    ws = _doc(
        '[workspace]\nmembers = []\n\n[workspace.lints.rust]\n# no unsafe\nunsafe_code = "forbid"\n'
    )
    block = ws.tables_text(("workspace", "lints"), ("lints",))
    assert block == '\n[lints.rust]\n# no unsafe\nunsafe_code = "forbid"\n'
    doc = _doc('[package]\nname = "x"\n\n[lints]\nworkspace = true\n')
    doc.set(("lints",), ws.get("workspace", "lints"), table=True, raw=block)
    assert (
        doc.text() == '[package]\nname = "x"\n\n[lints.rust]\n# no unsafe\nunsafe_code = "forbid"\n'
    )


@pytest.mark.parametrize("seed", range(40))
def test_random_edits_always_say_what_the_data_says(seed: int) -> None:
    rng = random.Random(seed)
    doc = _doc(TRICKY)
    paths = [
        ("title",),
        ("package", "name"),
        ("package", "readme"),
        ("dotted", "key"),
        ("package", "metadata", "docs", "all"),
        ("tool", "maturin", "x"),
        ("arr",),
        ("bin", 0, "name"),
        ("bin", 1),
        ("multi",),
        ("new",),
        ("package",),
    ]
    for _ in range(6):
        path = rng.choice(paths)
        if rng.random() < 0.4:
            doc.remove(path)
        elif doc.get(*path[:-1]) is not None or path[0] in ("tool", "new"):
            value: Any = rng.choice(["v", 3, True, ["a", "b"], {"k": "v"}])
            try:
                doc.set(path, value)
            except TypeError:
                continue
    assert tomllib.loads(doc.text()) == doc.data


# --- rewrites built on the editor -----------------------------------------------------------


def _package(**extra: Any) -> Dict[str, Any]:
    base = Path("/p")
    targets = [
        {"kind": ["cdylib"], "name": "demo", "src_path": str(base / "src/lib.rs")},
        {"kind": ["bin"], "name": "main", "src_path": str(base / "src/main.rs")},
        {"kind": ["bin"], "name": "tool", "src_path": str(base / "src/bin/tool.rs")},
        {"kind": ["custom-build"], "name": "build-script-gen", "src_path": str(base / "gen.rs")},
        {"kind": ["test"], "name": "t", "src_path": str(base / "tests/t.rs")},
    ]
    return {"targets": targets, **extra}


def test_targets_whose_files_are_left_out_are_dropped() -> None:
    doc = _doc(
        '[package]\nname = "demo"\nbuild = "gen.rs"\ndefault-run = "tool"\n\n[lib]\n'
        'crate-type = ["cdylib"]\n\n[[bin]]\nname = "main"\n\n[[bin]]\nname = "tool"\n'
        'path = "src/bin/tool.rs"\n\n[[test]]\nname = "t"\n'
    )
    prune_targets(doc, Path("/p/Cargo.toml"), _package(), {"src/main.rs", "gen.rs"})
    assert doc.text() == '[package]\nname = "demo"\nbuild = "gen.rs"\n\n[[bin]]\nname = "main"\n'
    prune_targets(doc, Path("/p/Cargo.toml"), _package(), {"src/main.rs"})
    assert doc.text() == '[package]\nname = "demo"\n\n[[bin]]\nname = "main"\n'


def test_resolved_dependencies_are_written_as_maturin_writes_them() -> None:
    deps = [
        {"name": "log", "req": "^0.4", "kind": None},
        {
            "name": "serde",
            "req": "^1",
            "kind": "dev",
            "features": ["derive"],
            "uses_default_features": False,
        },
        {"name": "real", "rename": "alias", "req": "^2", "kind": None},
        {
            "name": "g",
            "req": "*",
            "kind": None,
            "source": "git+https://example.invalid/g.git?branch=main#0123abc",
        },
        {
            "name": "h",
            "req": "^0.1",
            "kind": None,
            "source": "git+https://example.invalid/h.git#0123abc",
        },
        {"name": "u", "req": "*", "kind": "build", "path": "/w/util"},
        {
            "name": "r",
            "req": "^3",
            "kind": None,
            "optional": True,
            "registry": "https://my.invalid/index",
        },
    ]
    package = {"dependencies": deps}
    here = Path("/w/crate")
    assert resolved_dependency(package, "log", None, None, here) == "^0.4"
    assert resolved_dependency(package, "log", "dev", None, here) is None  # kinds must match
    assert resolved_dependency(package, "serde", "dev", None, here) == {
        "version": "^1",
        "default-features": False,
        "features": ["derive"],
    }
    assert resolved_dependency(package, "alias", None, None, here) == {
        "version": "^2",
        "package": "real",
    }
    assert resolved_dependency(package, "g", None, None, here) == {
        "git": "https://example.invalid/g.git",
        "branch": "main",
    }
    assert resolved_dependency(package, "h", None, None, here) == {
        "git": "https://example.invalid/h.git",
        "rev": "0123abc",
        "version": "^0.1",
    }
    assert resolved_dependency(package, "u", "build", None, here) == {"path": "../util"}
    assert resolved_dependency(
        package, "r", None, None, here, {"version": "3", "registry": "my"}
    ) == {"version": "^3", "registry": "my", "optional": True}
    assert resolved_dependency(package, "r", None, None, here) == "^3"


def test_an_inherited_include_the_workspace_lacks_is_named() -> None:
    doc = _doc('[package]\nname = "lib"\ninclude.workspace = true\n')
    workspace = TomlEdit('[workspace]\nmembers = ["lib"]\n', Path("/w/Cargo.toml"))
    with pytest.raises(ProjectError, match=r"package\.include .* /w/Cargo.toml has no workspace"):
        inline_workspace_fields(doc, {"publish": None}, Path("/w/lib/Cargo.toml"), workspace)
