"""The Rust SBOM lists maturin's components (every platform's dependencies: cargo metadata
without --filter-platform), while what counts for the build (the bindings) is decided for
this platform, from the same single cargo metadata call."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CRATES

from maturin_nox.crate_graph import crate_dependencies, platform_applies
from maturin_nox.project import load_project
from maturin_nox.sbom import rust_sbom


def _copy(crate: str, dest: Path) -> Path:
    shutil.copytree(CRATES / crate, dest, ignore=shutil.ignore_patterns("target", "__pycache__"))
    return dest


@pytest.mark.slow  # cargo metadata
def test_sbom_lists_other_platforms_dependencies_the_build_does_not_use(tmp_path: Path) -> None:
    project = load_project(cwd=_copy("pyo3-pure", tmp_path / "crate"))
    assert project.target is None  # no target named: maturin's unfiltered graph
    used = crate_dependencies(project.cargo_metadata, project.package["id"])
    sbom = json.loads(rust_sbom(project))
    listed = {c["name"] for c in sbom["components"]}
    # pyo3 needs portable-atomic only where 64-bit atomics are missing: not on this host,
    # so the build never uses it, but maturin's SBOM lists it
    assert "portable-atomic" in listed and "portable-atomic" not in used
    assert set(used) - {project.crate_name} <= listed
    refs = [c["bom-ref"] for c in sbom["components"]]
    assert refs == sorted(refs)
    assert sbom["metadata"]["properties"] == [
        {"name": "cdx:rustc:sbom:target:all_targets", "value": "true"}
    ]
    # metadata filtered by a named target is listed as it is, with no all-targets claim
    filtered = dataclasses.replace(project, target="x86_64-unknown-linux-gnu")
    assert "properties" not in json.loads(rust_sbom(filtered))["metadata"]


@pytest.mark.slow  # cargo metadata
def test_a_bindings_crate_for_another_platform_does_not_decide_the_bindings(
    tmp_path: Path,
) -> None:
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "winonly"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[lib]\ncrate-type = ["cdylib"]\n\n'
        "[target.'cfg(windows)'.dependencies]\npyo3 = \"=0.23.5\"\n"
    )
    (crate / "src" / "lib.rs").write_text("")
    shutil.copy(CRATES / "pyo3-pure" / "Cargo.lock", crate / "Cargo.lock")
    subprocess.run(["cargo", "metadata", "--offline", "--format-version", "1"], cwd=crate,
                   check=True, capture_output=True)  # fmt: skip
    project = load_project(cwd=crate)
    assert project.bindings.kind == "cffi"  # pyo3 is a Windows-only dependency here
    assert "pyo3" in {p["name"] for p in project.cargo_metadata["packages"]}
    assert "pyo3" in {c["name"] for c in json.loads(rust_sbom(project))["components"]}


def test_cfg_expressions_are_evaluated_as_cargo_does() -> None:
    values = frozenset(
        {("target_os", "linux"), ("target_arch", "x86_64"), ("unix", None)}
        | {("target_has_atomic", "64")}
    )
    host = ("x86_64-unknown-linux-gnu", values)

    def holds(target: str) -> bool:
        return platform_applies(target, host)

    assert holds("cfg(unix)") and not holds("cfg(windows)")
    assert not holds('cfg(not(target_has_atomic = "64"))')
    assert holds('cfg(all(target_os = "linux", any(windows, target_arch="x86_64")))')
    assert holds("cfg(all())") and not holds("cfg(any())")
    assert holds("x86_64-unknown-linux-gnu")
    assert not holds("x86_64-pc-windows-msvc")
