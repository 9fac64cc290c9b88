"""Core metadata from Cargo.toml + pyproject.toml, checked rule by rule and against maturin."""

from __future__ import annotations

import email.parser
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from packaging.metadata import Metadata

from maturin_nox.errors import ConfigError, ProjectError
from maturin_nox.metadata import CoreMetadata, resolve_metadata

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def cargo_package(root: Path, **fields: Any) -> Dict[str, Any]:
    """A `cargo metadata` package entry for a crate in root."""
    package: Dict[str, Any] = {
        "name": "demo-crate",
        "version": "0.1.0",
        "description": None,
        "authors": [],
        "license": None,
        "license_file": None,
        "readme": None,
        "homepage": None,
        "repository": None,
        "documentation": None,
        "keywords": [],
        "manifest_path": str(root / "Cargo.toml"),
    }
    package.update(fields)
    return package


def resolve(root: Path, project: Optional[Dict[str, Any]] = None, **cargo: Any) -> CoreMetadata:
    """resolve_metadata for a crate in root with an optional [project] table."""
    pyproject = {"project": project} if project is not None else None
    return resolve_metadata(
        cargo_package=cargo_package(root, **cargo), pyproject=pyproject, project_root=root
    )


def headers(md: CoreMetadata) -> email.message.Message:
    """METADATA parsed as an email message."""
    return email.parser.Parser().parsestr(md.metadata_text)


# ---------------------------------------------------------------- Cargo only


def test_cargo_only_maps_every_package_field(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Demo\n\nText.\n")
    md = resolve(
        tmp_path,
        version="1.2.0",
        description="A demo\n  crate",
        authors=["Jane Doe <jane@example.org>", "Bob"],
        license="MIT OR Apache-2.0",
        homepage="https://home.example.org",
        repository="https://github.com/x/y",
        documentation="https://docs.rs/y",
        keywords=["ffi", "demo"],
        readme="README.md",
    )
    assert md.metadata_text == (
        "Metadata-Version: 2.4\n"
        "Name: demo-crate\n"
        "Version: 1.2.0\n"
        "Summary: A demo crate\n"
        "Keywords: ffi,demo\n"
        "Home-Page: https://home.example.org\n"
        "Author: Jane Doe <jane@example.org>, Bob\n"
        "Author-email: Jane Doe <jane@example.org>, Bob\n"
        "License: MIT OR Apache-2.0\n"
        "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM\n"
        "Project-URL: Homepage, https://home.example.org\n"
        "Project-URL: Documentation, https://docs.rs/y\n"
        "Project-URL: Source Code, https://github.com/x/y\n"
        "\n# Demo\n\nText.\n\n"
    )
    assert md.entry_points_text is None
    assert md.license_files == ()
    assert md.name == md.dist_name() == "demo-crate"


def test_cargo_authors_without_address_give_no_author_email(tmp_path: Path) -> None:
    fields = headers(resolve(tmp_path, authors=["Bob", "Alice"]))
    assert fields["Author"] == "Bob, Alice"
    assert fields["Author-email"] is None


@pytest.mark.parametrize(
    ("cargo_version", "python_version"),
    [
        ("1.0.0-alpha.1", "1.0.0a1"),
        ("1.0.0-beta.2", "1.0.0b2"),
        ("1.0.0-rc.1", "1.0.0rc1"),
        ("1.0.0-dev.3", "1.0.0.dev3"),
        ("2.0.0+build.5", "2.0.0+build.5"),
    ],
)
def test_cargo_semver_becomes_pep440(
    tmp_path: Path, cargo_version: str, python_version: str
) -> None:
    md = resolve(tmp_path, version=cargo_version)
    assert md.version == python_version
    assert headers(md)["Version"] == python_version


def test_cargo_version_that_is_not_pep440_names_cargo_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Cargo.toml: package.version '1.0.0-foo.bar' is not a"):
        resolve(tmp_path, version="1.0.0-foo.bar")


@pytest.mark.parametrize(
    ("file_name", "content_type"),
    [
        ("README.md", "text/markdown; charset=UTF-8; variant=GFM"),
        ("README.markdown", "text/markdown; charset=UTF-8; variant=GFM"),
        ("README.rst", "text/x-rst; charset=UTF-8"),
        ("README.txt", "text/plain; charset=UTF-8"),
        ("README", "text/plain; charset=UTF-8"),
    ],
)
def test_readme_content_type_follows_extension(
    tmp_path: Path, file_name: str, content_type: str
) -> None:
    (tmp_path / file_name).write_text("hello\n")
    md = resolve(tmp_path, readme=file_name)
    assert headers(md)["Description-Content-Type"] == content_type
    assert md.metadata_text.endswith("\nhello\n\n")


def test_cargo_readme_is_guessed_when_unset_and_skipped_when_false(tmp_path: Path) -> None:
    (tmp_path / "README.rst").write_text("guessed\n")
    assert "guessed" in resolve(tmp_path).metadata_text
    assert "guessed" not in resolve(tmp_path, readme="false").metadata_text


def test_missing_cargo_readme_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"package.readme points to .*nope.md"):
        resolve(tmp_path, readme="nope.md")


def test_cargo_license_file_goes_under_licenses(tmp_path: Path) -> None:
    (tmp_path / "legal").mkdir()
    (tmp_path / "legal" / "LICENSE.txt").write_text("MIT\n")
    (tmp_path / "crate").mkdir()
    md = resolve(tmp_path, license_file="legal/LICENSE.txt")
    assert md.license_files == (("legal/LICENSE.txt", tmp_path / "legal" / "LICENSE.txt"),)
    assert headers(md).get_all("License-File") == ["legal/LICENSE.txt"]
    # A license file outside the crate keeps only its file name, as in maturin.
    outside = resolve(tmp_path / "crate", license_file="../legal/LICENSE.txt")
    assert outside.license_files == (("LICENSE.txt", tmp_path / "legal" / "LICENSE.txt"),)


def test_missing_cargo_license_file_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"package.license-file 'LICENSE' is not a file"):
        resolve(tmp_path, license_file="LICENSE")


def test_no_project_table_means_no_license_discovery(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("MIT\n")
    md = resolve_metadata(
        cargo_package=cargo_package(tmp_path), pyproject={"tool": {}}, project_root=tmp_path
    )
    assert md.license_files == ()


# ---------------------------------------------------------------- dynamic


def test_cargo_values_survive_only_when_dynamic(tmp_path: Path) -> None:
    cargo = {
        "description": "cargo summary",
        "authors": ["A <a@x.org>"],
        "keywords": ["k"],
        "license": "MIT",
        "repository": "https://r",
        "homepage": "https://h",
    }
    static = headers(resolve(tmp_path, {"name": "demo", "version": "1.0"}, **cargo))
    for key in ("Summary", "Author", "Keywords", "License", "Project-URL"):
        assert static[key] is None, key
    # maturin keeps Cargo's homepage as Home-Page even when urls is not dynamic.
    assert static["Home-Page"] == "https://h"
    dynamic = ["description", "authors", "keywords", "license", "urls"]
    kept = headers(resolve(tmp_path, {"name": "demo", "version": "1", "dynamic": dynamic}, **cargo))
    assert kept["Summary"] == "cargo summary"
    assert kept["Author-email"] == "A <a@x.org>"
    assert kept["Keywords"] == "k"
    assert kept["License"] == "MIT"
    assert kept.get_all("Project-URL") == ["Homepage, https://h", "Source Code, https://r"]


def test_version_falls_back_to_cargo_when_dynamic(tmp_path: Path) -> None:
    md = resolve(tmp_path, {"name": "demo", "dynamic": ["version"]}, version="3.1.4")
    assert md.version == "3.1.4"


def test_missing_version_only_warns_like_maturin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="maturin_nox"):
        md = resolve(tmp_path, {"name": "demo"}, version="0.2.0")
    assert md.version == "0.2.0"
    assert "pyproject.toml: project.version is required" in caplog.text


def test_dynamic_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pyproject.toml: project.dynamic must not list 'name'"):
        resolve(tmp_path, {"name": "demo", "dynamic": ["name"]})


# ---------------------------------------------------------------- pyproject


def test_pyproject_fields_override_cargo(tmp_path: Path) -> None:
    (tmp_path / "README.rst").write_text("cargo readme\n")
    project = {
        "name": "Demo_Pkg",
        "version": "2.0.0-rc.1",
        "description": "multi\n  line  summary\n",
        "readme": {"text": "Some text", "content-type": "text/x-rst"},
        "license": {"text": "Custom license text"},
        "authors": [
            {"name": "A. Person", "email": "a@x.org"},
            {"name": "Solo"},
            {"email": "only@x.org"},
        ],
        "maintainers": [{"name": "Mai", "email": "m@x.org"}],
        "keywords": ["k1", "k two"],
        "classifiers": ["Programming Language :: Rust"],
        "requires-python": "!=3.9.*, >=3.8",
        "urls": {"Zed": "https://z", "Alpha": "https://a"},
    }
    md = resolve(tmp_path, project, description="cargo", readme="README.rst")
    assert md.name == "Demo_Pkg"
    assert md.version == "2.0.0rc1"
    assert str(md.requires_python) == "!=3.9.*,>=3.8"
    assert md.metadata_text == (
        "Metadata-Version: 2.4\n"
        "Name: Demo_Pkg\n"
        "Version: 2.0.0rc1\n"
        "Classifier: Programming Language :: Rust\n"
        "Summary: multi line  summary\n"
        "Keywords: k1,k two\n"
        "Author: Solo\n"
        'Author-email: "A. Person" <a@x.org>, only@x.org\n'
        "Maintainer-email: Mai <m@x.org>\n"
        "License: Custom license text\n"
        "Requires-Python: >=3.8, !=3.9.*\n"
        "Description-Content-Type: text/x-rst\n"
        "Project-URL: Alpha, https://a\n"
        "Project-URL: Zed, https://z\n"
        "\nSome text\n"
    )


def test_readme_file_table_takes_its_content_type(tmp_path: Path) -> None:
    (tmp_path / "docs.txt").write_text("# Title\n")
    project = {
        "name": "d",
        "version": "1",
        "readme": {"file": "docs.txt", "content-type": "text/markdown"},
    }
    fields = headers(resolve(tmp_path, project))
    assert fields["Description-Content-Type"] == "text/markdown"
    assert fields.get_payload() == "# Title\n\n"


def test_readme_errors_name_the_key(tmp_path: Path) -> None:
    both = {"name": "d", "version": "1", "readme": {"file": "a", "text": "b"}}
    with pytest.raises(ConfigError, match=r"project.readme must not set both 'file' and 'text'"):
        resolve(tmp_path, both)
    with pytest.raises(ProjectError, match=r"pyproject.toml: project.readme points to"):
        resolve(tmp_path, {"name": "d", "version": "1", "readme": "missing.md"})
    with pytest.raises(ConfigError, match=r"project.readme path '../x.md' resolves outside"):
        resolve(tmp_path, {"name": "d", "version": "1", "readme": "../x.md"})


def test_long_license_text_is_folded_like_maturin(tmp_path: Path) -> None:
    text = " ".join(["word"] * 30)
    md = resolve(tmp_path, {"name": "d", "version": "1", "license": {"text": text}})
    value = md.metadata_text.split("License: ", 1)[1].split("\n", 1)[0]
    assert "\r" in value  # maturin folds the License header with CRLF + tab
    assert Metadata.from_email(md.metadata_text, validate=True).license is not None


@pytest.mark.parametrize(
    ("written", "rendered"),
    [
        ("Django>2.1; os_name != 'nt'", "django>2.1 ; os_name != 'nt'"),
        ("gidgethub[httpx,Abc]>4.0.0", "gidgethub[httpx,abc]>4.0.0"),
        ("pytest < 5.0.0, >=1.0.0-alpha1", "pytest>=1.0.0a1,<5.0.0"),
        ("a1 !=2.0, >3, <=9, ~=3.1, ==4", "a1!=2.0,>3,~=3.1,==4,<=9"),
        ("A_12.x[B_c] (>=1)", "a-12-x[b-c]>=1"),
        ("foo @ https://x.org/foo.whl", "foo @ https://x.org/foo.whl"),
        ("baz==1.0.*", "baz==1.0.*"),
        ('bar; python_version < "3.11"', "bar ; python_full_version < '3.11'"),
        ("a3; python_version <= '3.8'", "a3 ; python_full_version < '3.9'"),
        ("a4; python_version > '3.8'", "a4 ; python_full_version >= '3.9'"),
        ("a5; python_version == '3.8'", "a5 ; python_full_version == '3.8.*'"),
        (
            "a2; sys_platform == 'win32' and python_version < '3.11'",
            "a2 ; python_full_version < '3.11' and sys_platform == 'win32'",
        ),
        (
            "a7; platform_machine == 'x86_64' and os_name == 'posix' and "
            "implementation_name == 'cpython'",
            "a7 ; implementation_name == 'cpython' and os_name == 'posix' and "
            "platform_machine == 'x86_64'",
        ),
        ("a8; 'linux' in sys_platform", "a8 ; 'linux' in sys_platform"),
        ("a11; extra == 'Foo_Bar'", "a11 ; extra == 'foo-bar'"),
    ],
)
def test_requirements_are_written_like_pep508_rs(
    tmp_path: Path, written: str, rendered: str
) -> None:
    md = resolve(tmp_path, {"name": "d", "version": "1", "dependencies": [written]})
    assert headers(md).get_all("Requires-Dist") == [rendered]


def test_optional_dependencies_get_extra_markers_and_provides_extra(tmp_path: Path) -> None:
    project = {
        "name": "d",
        "version": "1",
        "dependencies": ["base"],
        "optional-dependencies": {
            "dev": ["black"],
            "Test_X": [
                "pytest-cov[all]",
                "tomli; python_version < '3.11' or sys_platform == 'win32'",
                "o1; sys_platform == 'win32' and python_version < '3.11'",
            ],
        },
    }
    md = resolve(tmp_path, project)
    assert md.extras == ("test-x", "dev")
    fields = headers(md)
    assert fields.get_all("Provides-Extra") == ["test-x", "dev"]
    assert fields.get_all("Requires-Dist") == [
        "base",
        "pytest-cov[all] ; extra == 'test-x'",
        "tomli ; (python_full_version < '3.11' and extra == 'test-x') or "
        "(sys_platform == 'win32' and extra == 'test-x')",
        "o1 ; python_full_version < '3.11' and sys_platform == 'win32' and extra == 'test-x'",
        "black ; extra == 'dev'",
    ]


@pytest.mark.parametrize(
    ("project", "message"),
    [
        (
            {"name": "d", "version": "1.0.x"},
            "pyproject.toml: project.version '1.0.x' is not a valid PEP 440 version.",
        ),
        ({"version": "1"}, "pyproject.toml: project.name must be set to a string."),
        (
            {"name": "-bad-", "version": "1"},
            "pyproject.toml: project.name '-bad-' is not a valid distribution name.",
        ),
        (
            {"name": "d", "version": "1", "requires-python": ">=3.8, =>4"},
            "pyproject.toml: project.requires-python '>=3.8, =>4' is not a valid version",
        ),
        (
            {"name": "d", "version": "1", "dependencies": ["ok", "no good!"]},
            "pyproject.toml: project.dependencies[1] 'no good!' is not a valid PEP 508 requirement",
        ),
        (
            {"name": "d", "version": "1", "optional-dependencies": {"x": ["a; bogus == '1'"]}},
            "pyproject.toml: project.optional-dependencies.x[0] \"a; bogus == '1'\" is not a valid",
        ),
        (
            {"name": "d", "version": "1", "optional-dependencies": {"-x": ["a"]}},
            "pyproject.toml: project.optional-dependencies.-x is not a valid extra name.",
        ),
        (
            {"name": "d", "version": "1", "keywords": "a, b"},
            "pyproject.toml: project.keywords must be an array of strings.",
        ),
        (
            {"name": "d", "version": "1", "authors": [{"name": "A", "mail": "x"}]},
            "pyproject.toml: project.authors[0] must be a table with 'name' and/or 'email'.",
        ),
        (
            {"name": "d", "version": "1", "entry-points": {"console_scripts": {"a": "b:c"}}},
            "pyproject.toml: project.entry-points.console_scripts is not allowed",
        ),
        (
            {"name": "d", "version": "1", "license": {"file": "L", "text": "T"}},
            "pyproject.toml: project.license must set exactly one of 'file' and 'text'.",
        ),
        (
            {"name": "d", "version": "1", "license": {"file": "MISSING"}},
            "pyproject.toml: project.license.file 'MISSING' is not a file.",
        ),
        (
            {"name": "d", "version": "1", "license": "Not A License"},
            "The core metadata built from Cargo.toml and pyproject.toml is invalid",
        ),
        (
            {"name": "d", "version": "1", "license-files": ["../LICENSE"]},
            "pyproject.toml: project.license-files[0] glob '../LICENSE' must not use the parent",
        ),
        (
            {"name": "d", "version": "1", "license-files": ["LICEN[!C]E"]},
            "pyproject.toml: project.license-files[0] glob 'LICEN[!C]E' has an invalid character",
        ),
        (
            {"name": "d", "version": "1", "license-files": ["licenses/**license"]},
            "pyproject.toml: project.license-files[0] glob 'licenses/**license' has too many stars",
        ),
        (
            {"name": "d", "version": "1", "license-files": ["/LICENSE"]},
            "pyproject.toml: project.license-files[0] glob '/LICENSE' must be relative",
        ),
    ],
)
def test_bad_input_is_one_sentence_naming_the_key(
    tmp_path: Path, project: Dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, project)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- licenses


def test_license_expression_and_default_license_globs(tmp_path: Path) -> None:
    for name in ("LICENSE-MIT", "LICENSE-APACHE", "NOTICE", "AUTHORS.md", "COPYING", "README"):
        (tmp_path / name).write_text(name)
    (tmp_path / "LICENSES").mkdir()  # folders never count
    md = resolve(tmp_path, {"name": "d", "version": "1", "license": "MIT OR Apache-2.0"})
    fields = headers(md)
    assert fields["License-Expression"] == "MIT OR Apache-2.0"
    assert fields["License"] is None
    expected = ["LICENSE-APACHE", "LICENSE-MIT", "COPYING", "NOTICE", "AUTHORS.md"]
    assert fields.get_all("License-File") == expected
    assert md.license_files == tuple((name, tmp_path / name) for name in expected)


def test_license_files_globs_replace_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "licenses" / "sub").mkdir(parents=True)
    (tmp_path / "licenses" / "A.txt").write_text("a")
    (tmp_path / "licenses" / "sub" / "B.txt").write_text("b")
    (tmp_path / "licenses" / "C.md").write_text("c")
    (tmp_path / "LICENSE").write_text("not matched")
    (tmp_path / "COPYING").write_text("c")
    project = {"name": "d", "version": "1", "license-files": ["licenses/**/*.txt", "COPYING"]}
    md = resolve(tmp_path, project)
    assert [target for target, _ in md.license_files] == [
        "licenses/A.txt",
        "licenses/sub/B.txt",
        "COPYING",
    ]
    assert resolve(tmp_path, {"name": "d", "version": "1", "license-files": []}).license_files == ()


def test_license_table_file_and_cargo_license_file_are_listed_once(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("MIT")
    project = {"name": "d", "version": "1", "license": {"file": "LICENSE"}}
    md = resolve(tmp_path, project, license_file="LICENSE")
    assert md.license_files == (("LICENSE", tmp_path / "LICENSE"),)


# ---------------------------------------------------------------- entry points


def test_entry_points_are_sorted_like_maturin_writes_them(tmp_path: Path) -> None:
    project = {
        "name": "d",
        "version": "1",
        "scripts": {"zcmd": "pkg:main", "acmd": "pkg:other"},
        "gui-scripts": {"gui": "pkg:gui"},
        "entry-points": {"z.group": {"b": "x:y", "a": "x:z"}, "agroup": {"c": "q:r"}},
    }
    md = resolve(tmp_path, project)
    assert md.entry_points_text == (
        "[console_scripts]\nacmd=pkg:other\nzcmd=pkg:main\n"
        "[gui_scripts]\ngui=pkg:gui\n"
        "[agroup]\nc=q:r\n"
        "[z.group]\na=x:z\nb=x:y\n"
    )
    assert dict(md.scripts) == {"acmd": "pkg:other", "zcmd": "pkg:main"}
    assert dict(md.gui_scripts) == {"gui": "pkg:gui"}


def test_every_result_passes_packaging_validation(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n")
    md = resolve(
        tmp_path,
        {
            "name": "d",
            "version": "1",
            "readme": "README.md",
            "license": "MIT",
            "dependencies": ["a; python_version < '3.9'"],
            "optional-dependencies": {"t": ["b"]},
        },
    )
    parsed = Metadata.from_email(md.metadata_text, validate=True)
    assert parsed.metadata_version == "2.4"
    assert str(parsed.license_expression) == "MIT"


# ---------------------------------------------------------------- against maturin

MATURIN = shutil.which("maturin")

CARGO_ONLY = {
    "Cargo.toml": """
[package]
name = "cargo-only"
version = "1.0.0-alpha.1"
edition = "2021"
description = "A cargo description"
authors = ["Jane Doe <jane@example.org>", "Bob"]
license = "MIT OR Apache-2.0"
license-file = "LICENSE-MIT"
homepage = "https://home.example.org"
repository = "https://github.com/x/y"
documentation = "https://docs.rs/y"
keywords = ["a", "b"]
readme = "README.md"

[[bin]]
name = "cargo-only"
path = "src/main.rs"
""",
    "pyproject.toml": """
[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "cargo-only"
dynamic = ["version", "description", "authors", "keywords", "urls", "license", "readme"]

[tool.maturin]
bindings = "bin"
""",
    "README.md": "# Hello\n\nworld\n",
    "LICENSE-MIT": "MIT\n",
    "NOTICE": "notice\n",
}

PYPROJECT_RICH = {
    "Cargo.toml": """
[package]
name = "rich"
version = "0.1.0"
edition = "2021"
description = "ignored: not dynamic"
homepage = "https://kept-as-home-page.example.org"

[[bin]]
name = "rich"
path = "src/main.rs"
""",
    "pyproject.toml": """
[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "Rich_Pkg"
version = "2.0.0-rc.1"
description = \"\"\"multi
  line  summary
\"\"\"
readme = {text = "Some text", content-type = "text/x-rst"}
license = {text = "Custom license text"}
authors = [{name = "A. Person", email = "a@x.org"}, {name = "Solo"}, {email = "only@x.org"}]
maintainers = [{name = "Mai", email = "m@x.org"}]
keywords = ["k1", "k two"]
classifiers = ["Programming Language :: Rust", "Topic :: Utilities"]
requires-python = "!=3.9.*, >=3.8"
dependencies = [
  "Django>2.1; os_name != 'nt'",
  "gidgethub[httpx,Abc]>4.0.0",
  "pytest < 5.0.0, >=1.0.0-alpha1",
  "foo @ https://x.org/foo.whl",
  "bar; python_version < \\"3.11\\"",
  "a3; python_version <= '3.8'",
  "a4; python_version > '3.8' and platform_machine == 'x86_64' and os_name == 'posix'",
  "a5; python_version == '3.8'",
  "a8; 'linux' in sys_platform",
  "A_12.x[B_c] (>=1)",
]
[project.optional-dependencies]
Test_X = ["pytest-cov[all]", "tomli; python_version < '3.11' or sys_platform == 'win32'"]
dev = ["black", "o1; sys_platform == 'win32' and python_version < '3.11'"]
[project.urls]
Zed = "https://z"
"Bug Tracker" = "https://b"
[project.gui-scripts]
zgui = "pkg:gui"
agui = "pkg:gui2"
[project.entry-points."z.group"]
b = "x:y"
a = "x:z"
[project.entry-points.agroup]
c = "q:r"

[tool.maturin]
bindings = "bin"
""",
    "LICENSE": "MIT\n",
}

NO_PYPROJECT = {
    "Cargo.toml": """
[package]
name = "nopy"
version = "0.3.0-beta.2"
edition = "2021"
authors = ["Solo Dev"]
license = "Apache-2.0"
description = "a\\nb"

[[bin]]
name = "nopy"
path = "src/main.rs"
""",
    "README.md": "readme found by cargo\n",
    "LICENSE": "not discovered without a [project] table\n",
}

PEP639 = {
    "Cargo.toml": """
[package]
name = "pep639"
version = "1.0.0"
edition = "2021"

[[bin]]
name = "pep639"
path = "src/main.rs"
""",
    "pyproject.toml": """
[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "pep639"
version = "1.0.post1"
license = "MIT OR Apache-2.0"
license-files = ["licenses/**/*.txt", "COPYING", "LICENSE-*"]
readme = "README.rst"

[tool.maturin]
bindings = "bin"
""",
    "README.rst": "Title\n=====\n\nBody.\n",
    "LICENSE-MIT": "MIT\n",
    "LICENSE-APACHE": "Apache\n",
    "NOTICE": "not listed: license-files replaces the defaults\n",
    "COPYING": "copying\n",
    "licenses/A.txt": "a\n",
    "licenses/sub/B.txt": "b\n",
    "licenses/C.md": "not matched\n",
}


@pytest.fixture(scope="session")
def cargo_target_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cargo target folder for every maturin build of this module."""
    return tmp_path_factory.mktemp("metadata-target")


def build_with_maturin(root: Path, target_dir: Path) -> Dict[str, Optional[str]]:
    """Run `maturin build` on root and return its METADATA and entry_points.txt."""
    out = root / "dist"
    env = {**os.environ, "CARGO_TARGET_DIR": str(target_dir)}
    subprocess.run(
        [str(MATURIN), "build", "-o", str(out)],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()

        def member(suffix: str) -> Optional[str]:
            found = [n for n in names if n.endswith(suffix) and ".dist-info/" in n]
            return archive.read(found[0]).decode() if found else None

        return {
            "METADATA": member(".dist-info/METADATA"),
            "entry_points.txt": member(".dist-info/entry_points.txt"),
            "licenses": "\n".join(
                sorted(
                    n.split(".dist-info/licenses/", 1)[1]
                    for n in names
                    if ".dist-info/licenses/" in n
                )
            ),
        }


def write_project(root: Path, files: Dict[str, str]) -> None:
    """Lay out a test crate with a `fn main` binary."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n") if name.endswith(".toml") else text)
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "main.rs").write_text("fn main() {}\n")


def ours(root: Path) -> CoreMetadata:
    """Our metadata for root, from real `cargo metadata` output."""
    output = subprocess.run(
        [
            "cargo",
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
            str(root / "Cargo.toml"),
        ],
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    package = json.loads(output)["packages"][0]
    pyproject_file = root / "pyproject.toml"
    pyproject = tomllib.loads(pyproject_file.read_text()) if pyproject_file.exists() else None
    return resolve_metadata(cargo_package=package, pyproject=pyproject, project_root=root)


def header_multiset(text: str) -> Counter[tuple[str, str]]:
    """All METADATA headers as a multiset of (name, value)."""
    return Counter(email.parser.Parser().parsestr(text).items())


# Known, intended differences: markers mixing `and` and `or` on different variables
# are simplified by pep508-rs's decision diagram; we write the plain DNF instead.
# None of the shapes below uses such a marker, so they must match exactly.
@pytest.mark.slow
@pytest.mark.skipif(MATURIN is None, reason="maturin is not installed")
@pytest.mark.parametrize(
    "files",
    [CARGO_ONLY, NO_PYPROJECT, PYPROJECT_RICH, PEP639],
    ids=["cargo-only", "no-pyproject", "pyproject-rich", "pep639"],
)
def test_metadata_matches_maturin(
    tmp_path: Path, cargo_target_dir: Path, files: Dict[str, str]
) -> None:
    write_project(tmp_path, files)
    theirs = build_with_maturin(tmp_path, cargo_target_dir)
    mine = ours(tmp_path)
    assert theirs["METADATA"] is not None
    assert header_multiset(mine.metadata_text) == header_multiset(theirs["METADATA"])
    parser = email.parser.Parser()
    assert (
        parser.parsestr(mine.metadata_text).get_payload()
        == parser.parsestr(theirs["METADATA"]).get_payload()
    )
    # Beyond the parsed comparison, the bytes match too.
    assert mine.metadata_text == theirs["METADATA"]
    assert mine.entry_points_text == theirs["entry_points.txt"]
    assert "\n".join(sorted(t for t, _ in mine.license_files)) == theirs["licenses"]


def test_metadata_found_valid_is_remembered_and_invalid_metadata_never_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maturin_nox.errors import ConfigError
    from maturin_nox.metadata.render import validate_metadata

    monkeypatch.setenv("MATURIN_NOX_CACHE_DIR", str(tmp_path / "cache"))
    good = "Metadata-Version: 2.4\nName: pkg\nVersion: 1.0\n"
    validate_metadata(good, tmp_path)
    markers = list((tmp_path / "cache" / "valid-metadata").iterdir())
    assert len(markers) == 1
    validate_metadata(good, tmp_path)  # answered by the marker
    bad = "Metadata-Version: 2.4\nName: pkg\nVersion: not a version\n"
    for _ in range(2):
        with pytest.raises(ConfigError, match="invalid"):
            validate_metadata(bad, tmp_path)
    assert list((tmp_path / "cache" / "valid-metadata").iterdir()) == markers
