"""The Rust SBOM: maturin's components (every platform's dependencies, from cargo metadata
without --filter-platform), while the project's own metadata stays filtered by the host;
the unfiltered graph is read once and kept until its inputs change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CRATES

from maturin_nox import cargo
from maturin_nox.project import load_project
from maturin_nox.sbom import rust_sbom

pytestmark = pytest.mark.slow  # cargo metadata


def _copy(crate: str, dest: Path) -> Path:
    shutil.copytree(CRATES / crate, dest, ignore=shutil.ignore_patterns("target", "__pycache__"))
    return dest


def _no_cargo(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("cargo metadata ran again")


def test_sbom_lists_other_platforms_dependencies_and_reuses_the_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = _copy("pyo3-pure", tmp_path / "crate")
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "target"))
    project = load_project(cwd=crate)
    host_view = {p["name"] for p in project.cargo_metadata["packages"]}
    sbom = json.loads(rust_sbom(project))
    listed = {c["name"] for c in sbom["components"]}
    # pyo3 needs portable-atomic only where 64-bit atomics are missing: not on this host,
    # so bindings detection never sees it, but maturin's SBOM lists it
    assert "portable-atomic" in listed and "portable-atomic" not in host_view
    assert host_view - {project.crate_name} <= listed
    refs = [c["bom-ref"] for c in sbom["components"]]
    assert refs == sorted(refs)
    assert sbom["metadata"]["properties"] == [
        {"name": "cdx:rustc:sbom:target:all_targets", "value": "true"}
    ]
    monkeypatch.setattr(cargo, "metadata", _no_cargo)
    assert json.loads(rust_sbom(project)) == sbom  # nothing changed: no second cargo call
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace("edition", "# touched\nedition", 1))
    with pytest.raises(AssertionError, match="ran again"):
        rust_sbom(project)


def test_an_explicit_target_keeps_the_projects_filtered_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    crate = _copy("pyo3-pure", tmp_path / "crate")
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "target"))
    project = load_project(cwd=crate)
    other = dataclasses.replace(project, metadata_platform="aarch64-unknown-linux-gnu")
    monkeypatch.setattr(cargo, "metadata", _no_cargo)
    sbom = json.loads(rust_sbom(other))
    assert {c["name"] for c in sbom["components"]} == {
        p["name"] for p in project.cargo_metadata["packages"]
    } - {project.crate_name}
    assert "properties" not in sbom["metadata"]
