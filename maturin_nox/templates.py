"""The text of the files ``maturin-nox new`` and ``init`` write, one template per file kind.

Templates use :class:`string.Template` (``$name``) so Rust and Python braces
need no escaping. Which template goes where is decided in :mod:`scaffold`.
"""

from __future__ import annotations

from string import Template
from typing import Dict

__all__ = ["PYO3_VERSION", "render"]

# The version the test crates pin, so a new project shares their cargo cache.
PYO3_VERSION = "0.23.5"

_TEMPLATES: Dict[str, str] = {
    "Cargo.toml": """\
[package]
name = "$crate"
version = "0.1.0"
edition = "2021"

# See more keys and their definitions at https://doc.rust-lang.org/cargo/reference/manifest.html
$lib_section
[dependencies]
$dependencies""",
    "lib_section": """\
[lib]
name = "$lib"
crate-type = ["cdylib"]
""",
    "pyo3_dependency": """\
pyo3 = { version = "$pyo3_version", features = ["extension-module"] }
""",
    "pyproject.toml": """\
[build-system]
requires = ["maturin-nox-core"]
build-backend = "maturin_nox.backend"

[project]
name = "$name"
requires-python = "$requires_python"
classifiers = [
    "Programming Language :: Rust",
    "Programming Language :: Python :: Implementation :: CPython",
    "Programming Language :: Python :: Implementation :: PyPy",
]
dynamic = ["version"]
$dependencies
[project.optional-dependencies]
test = ["pytest"]

[tool.maturin]
bindings = "$bindings"
$maturin_keys
[tool.uv]
# uv reuses a built wheel until one of these changes: a Rust edit must rebuild
cache-keys = [{ file = "pyproject.toml" }, { file = "Cargo.toml" }, { file = "Cargo.lock" }, { file = "**/*.rs" }]
""",
    "pyo3/lib.rs": """\
use pyo3::prelude::*;

/// Formats the sum of two numbers as string.
#[pyfunction]
fn sum_as_string(a: usize, b: usize) -> PyResult<String> {
    Ok((a + b).to_string())
}

/// A Python module implemented in Rust: `$pymodule`.
#[pymodule]
fn $pyfn(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sum_as_string, m)?)?;
    Ok(())
}
""",
    "cffi/lib.rs": """\
//! Plain `extern "C"` functions; cffi loads them through the declarations in header.h.

/// Add two numbers, wrapping on overflow.
#[no_mangle]
pub extern "C" fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}
""",
    "cffi/header.h": """\
/* The C declarations cffi reads: keep them in step with src/lib.rs.
   build.rs copies this file to <cargo target dir>/header.h, where the build looks
   for a header before falling back to cbindgen. */
int64_t add(int64_t a, int64_t b);
""",
    "cffi/build.rs": """\
//! Publish header.h as `<cargo target dir>/header.h`, where maturin-nox (and maturin)
//! look for a ready-made cffi header, so building needs no cbindgen.
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The cargo target directory: the nearest ancestor of OUT_DIR holding CACHEDIR.TAG.
fn target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        // a target dir made before cargo ran has no tag: OUT_DIR is <target>/<profile>/build/<pkg>/out
        .unwrap_or_else(|| out_dir.ancestors().nth(4).expect("OUT_DIR is inside a target dir").to_path_buf())
}

fn main() {
    let source = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("header.h");
    let dest = target_dir(Path::new(&env::var("OUT_DIR").unwrap())).join("header.h");
    fs::copy(&source, &dest).expect("failed to copy header.h into the cargo target directory");
    println!("cargo:rerun-if-changed=header.h");
    // Another cffi crate sharing the target directory may overwrite the copy:
    // watching it makes cargo restore ours whenever that happens.
    println!("cargo:rerun-if-changed={}", dest.display());
}
""",
    "bin/main.rs": """\
fn main() {
    println!("Hello from $name!");
}
""",
    "pyo3/__init__.py": """\
\"\"\"$name: Python code around the Rust extension module `$pymodule`.\"\"\"

from .$pyfn import sum_as_string

__all__ = ["sum_as_string"]
""",
    "cffi/__init__.py": """\
\"\"\"$name: Python code around the Rust library, loaded by cffi as `$module.$module`.\"\"\"

from .$module import ffi, lib

__all__ = ["add", "ffi", "lib"]


def add(a: int, b: int) -> int:
    \"\"\"Add two numbers in Rust.\"\"\"
    return int(lib.add(a, b))
""",
    "bin/__init__.py": """\
\"\"\"$name: a Rust program installed as the `$name` command, and Python helpers for it.\"\"\"

import os
import subprocess
import sysconfig

__all__ = ["executable", "run"]


def executable() -> str:
    \"\"\"The path of the installed `$name` program.\"\"\"
    suffix = ".exe" if os.name == "nt" else ""
    return os.path.join(sysconfig.get_path("scripts"), "$name" + suffix)


def run() -> str:
    \"\"\"Run the program and return what it printed.\"\"\"
    return subprocess.run([executable()], capture_output=True, text=True, check=True).stdout
""",
    "pyo3/test.py": """\
from $module import sum_as_string


def test_sum_as_string():
    assert sum_as_string(1, 2) == "3"
""",
    "cffi/test.py": """\
from $module import lib


def test_add():
    assert lib.add(1, 2) == 3
""",
    "cffi-mixed/test.py": """\
from $module import add


def test_add():
    assert add(1, 2) == 3
""",
    "bin/test.py": """\
import os
import subprocess
import sysconfig


def test_program_says_hello():
    suffix = ".exe" if os.name == "nt" else ""
    program = os.path.join(sysconfig.get_path("scripts"), "$name" + suffix)
    output = subprocess.run([program], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "Hello from $name!"
""",
    "bin-mixed/test.py": """\
from $module import run


def test_program_says_hello():
    assert run().strip() == "Hello from $name!"
""",
    "noxfile.py": """\
\"\"\"Tasks for $name: `nox -s build test` builds the wheels and tests each one installed.

The sessions come from maturin-nox (`nox -l` lists them): build, develop, test,
audit, sdist and publish. Set MATURIN_NOX_TARGET_DIR to share a cargo target
directory between projects.
\"\"\"

from maturin_nox import sessions

sessions.register(python=[$pythons])
""",
    ".gitignore": """\
/target
Cargo.lock.orig

# Python caches and environments
__pycache__/
*.py[cod]
.pytest_cache/
.nox/
.tox/
.venv/
venv/
env/

# Build outputs
*.so
*.pyd
*.dylib
build/
dist/
*.egg-info/
.coverage
htmlcov/

# Editors and systems
.idea/
.vscode/
.DS_Store
.python-version
""",
}


def render(template: str, **values: str) -> str:
    """The named template with ``$placeholders`` filled in from ``values``."""
    return Template(_TEMPLATES[template]).substitute(values)
