"""``[tool.maturin]``: every key maturin 1.16 reads is accepted and kept, an unknown key is a
warning naming file and key, a wrong type an error naming file and key, and a key that only
means something on another platform is read with a debug line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict

import pytest

from maturin_nox.config import (
    CargoTarget,
    ConditionalFeature,
    GlobPattern,
    MaturinConfig,
    OutDirInclude,
    TargetConfig,
)
from maturin_nox.errors import ConfigError

PYPROJECT = Path("/proj/pyproject.toml")

# One value of the right type for each key of maturin 1.16's schema (maturin.schema.json).
EVERY_KEY: Dict[str, Any] = {
    "all-features": False,
    "auditwheel": "repair",
    "bindings": "pyo3",
    "compatibility": "manylinux2014",
    "config": ["build.jobs=1"],
    "data": "pkg.data",
    "editable-profile": "dev",
    "exclude": ["tests/**"],
    "features": ["a", {"feature": "b", "python-version": ">=3.10"}],
    "frozen": False,
    "generate-ci": {"github": {"pytest": True, "linux": {"targets": ["x86_64"]}}},
    "include": ["LICENSE", {"path": "gen.txt", "from": "out-dir", "to": "pkg/"}],
    "include-import-lib": True,
    "locked": True,
    "manifest-path": "rust/Cargo.toml",
    "module-name": "pkg._native",
    "no-default-features": False,
    "pgo-command": "python -m bench",
    "pgo-dependency-group": "bench",
    "profile": "release",
    "python-packages": ["extra"],
    "python-source": "python",
    "rustc-args": ["-C", "opt-level=1"],
    "sbom": {"rust": True, "auditwheel": False, "include": ["extra.cdx.json"]},
    "sdist-generator": "git",
    "skip-auditwheel": False,
    "strip": True,
    "target": {"x86_64-apple-darwin": {"macos-deployment-target": "10.12"}},
    "targets": [{"name": "pkg", "kind": "cdylib"}],
    "unstable-flags": ["build-std"],
    "use-base-python": True,
}


def read(table: Dict[str, Any]) -> MaturinConfig:
    return MaturinConfig.from_pyproject({"tool": {"maturin": table}}, PYPROJECT)


def test_every_key_maturin_reads_is_accepted_without_a_warning(caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="maturin_nox"):
        cfg = read(EVERY_KEY)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # skip-auditwheel is maturin's deprecated spelling: its warning names the new key
    assert [r.getMessage() for r in warnings] == [
        f'{PYPROJECT}: tool.maturin.skip-auditwheel is deprecated, use tool.maturin.auditwheel = "skip" instead.'
    ]
    assert cfg.features == ("a",)
    assert cfg.conditional_features == (ConditionalFeature("b", ">=3.10"),)
    assert cfg.include == (GlobPattern("LICENSE"),)
    assert cfg.out_dir_includes == (OutDirInclude("gen.txt", "pkg/"),)
    assert cfg.targets == (CargoTarget("pkg", "cdylib"),)
    assert cfg.target_config == {"x86_64-apple-darwin": TargetConfig("10.12")}
    assert cfg.macos_deployment_target("x86_64-apple-darwin") == "10.12"
    assert cfg.unstable_flags == ("build-std",)
    assert (cfg.sbom_rust, cfg.sbom_auditwheel, cfg.sbom_include) == (
        True,
        False,
        ("extra.cdx.json",),
    )
    assert cfg.include_import_lib and cfg.use_base_python
    assert (cfg.pgo_command, cfg.pgo_dependency_group) == ("python -m bench", "bench")
    assert cfg.generate_ci is not None and cfg.generate_ci.pytest is True
    assert cfg.generate_ci.platforms["linux"].targets == ("x86_64",)


def test_keys_without_meaning_on_linux_are_read_with_a_debug_line(caplog, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    with caplog.at_level(logging.DEBUG, logger="maturin_nox"):
        read(
            {
                "include-import-lib": True,
                "target": {"aarch64-apple-darwin": {"macosx-deployment-target": "11.0"}},
            }
        )
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(
        "tool.maturin.include-import-lib" in m and "does nothing on linux" in m for m in debug
    )
    assert any(
        "tool.maturin.target.aarch64-apple-darwin.macos-deployment-target" in m and "'11.0'" in m
        for m in debug
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "table, key",
    [
        ({"bogus": 1}, "tool.maturin.bogus"),
        ({"sbom": {"rust": True, "zzz": 1}}, "tool.maturin.sbom.zzz"),
        (
            {"target": {"x86_64-apple-darwin": {"deployment": "1"}}},
            "tool.maturin.target.x86_64-apple-darwin.deployment",
        ),
        ({"targets": [{"name": "a", "typo": 1}]}, "tool.maturin.targets[0].typo"),
        ({"features": [{"feature": "a", "python": "3"}]}, "tool.maturin.features[0].python"),
        (
            {"include": [{"path": "a", "format": "wheel", "extra": 1}]},
            "tool.maturin.include[0].extra",
        ),
        (
            {"generate-ci": {"github": {"linux": {"runners": "x"}}}},
            "tool.maturin.generate-ci.github.linux.runners",
        ),
    ],
)
def test_an_unknown_key_is_a_warning_naming_file_and_key(table, key, caplog) -> None:
    read(table)
    assert f"{PYPROJECT}: {key} is not a key maturin reads; it is ignored." in caplog.text


@pytest.mark.parametrize(
    "table, message",
    [
        ({"strip": "yes"}, "tool.maturin.strip must be true or false, not 'yes'"),
        ({"module-name": 3}, "tool.maturin.module-name must be a string, not 3"),
        ({"python-packages": [1]}, "tool.maturin.python-packages must be a list of strings"),
        ({"features": [1]}, "tool.maturin.features must be a list of feature names"),
        (
            {"features": [{"python-version": ">=3.9"}]},
            "tool.maturin.features[0].feature is missing",
        ),
        (
            {"features": [{"feature": "a", "python-version": "3.10+"}]},
            "tool.maturin.features[0].python-version is '3.10+'",
        ),
        (
            {"target": "x86_64-unknown-linux-gnu"},
            "tool.maturin.target is 'x86_64-unknown-linux-gnu', but maturin reads it as per-target tables",
        ),
        (
            {"target": {"x86_64-apple-darwin": "10.12"}},
            "tool.maturin.target.x86_64-apple-darwin must be a table",
        ),
        (
            {"target": {"x86_64-apple-darwin": {"macos-deployment-target": 10.12}}},
            "macos-deployment-target must be a string",
        ),
        ({"targets": {"name": "a"}}, "tool.maturin.targets must be an array of tables"),
        ({"targets": [{"kind": "bin"}]}, "tool.maturin.targets[0].name is missing"),
        ({"targets": [{"name": "a", "kind": "exe"}]}, "tool.maturin.targets[0].kind is 'exe'"),
        (
            {"include": [{"path": "a", "from": "target-dir", "to": "p"}]},
            "tool.maturin.include[0].from is 'target-dir'",
        ),
        ({"include": [{"path": "a", "from": "out-dir"}]}, "tool.maturin.include[0].to is missing"),
        (
            {"include": [{"path": "../a", "from": "out-dir", "to": "p"}]},
            "tool.maturin.include[0].path has the glob '../a'",
        ),
        (
            {"include": [{"path": "a", "from": "out-dir", "to": "p", "crate-name": 1}]},
            "tool.maturin.include[0].crate-name must be a string",
        ),
        ({"sbom": {"auditwheel": "no"}}, "tool.maturin.sbom.auditwheel must be true or false"),
        ({"sbom": []}, "tool.maturin.sbom must be a table"),
        ({"include-import-lib": 1}, "tool.maturin.include-import-lib must be true or false"),
        ({"use-base-python": "1"}, "tool.maturin.use-base-python must be true or false"),
        ({"pgo-command": ["python"]}, "tool.maturin.pgo-command must be a string"),
        ({"unstable-flags": [1]}, "tool.maturin.unstable-flags must be a list of strings"),
        (
            {"generate-ci": {"github": {"pytest": "yes"}}},
            "tool.maturin.generate-ci.github.pytest must be true or false",
        ),
        (
            {
                "generate-ci": {
                    "github": {"linux": {"targets": ["x86_64"], "target": [{"arch": "x86_64"}]}}
                }
            },
            "tool.maturin.generate-ci.github.linux.targets and [[target]] are mutually exclusive",
        ),
    ],
)
def test_a_wrong_type_is_an_error_naming_file_and_key(table, message) -> None:
    with pytest.raises(ConfigError) as info:
        read(table)
    assert str(info.value).startswith(f"{PYPROJECT}: ")
    assert message in str(info.value)


def test_out_dir_includes_take_both_spellings_of_crate_name_and_stay_out_of_the_globs() -> None:
    cfg = read(
        {
            "include": [
                "README.md",
                {"path": "gen/*.txt", "from": "out-dir", "to": "pkg/data", "crate-name": "helper"},
                {"path": "info.txt", "from": "out-dir", "to": "pkg/", "crate_name": "other"},
            ]
        }
    )
    assert cfg.include == (GlobPattern("README.md"),)
    assert cfg.out_dir_includes == (
        OutDirInclude("gen/*.txt", "pkg/data", "helper"),
        OutDirInclude("info.txt", "pkg/", "other"),
    )


def test_conditional_features_apply_by_version_and_implementation() -> None:
    (new, pypy) = read(
        {
            "features": [
                {"feature": "fast", "python-version": ">=3.11"},
                {"feature": "pypy-compat", "python-implementation": "PyPy"},
            ]
        }
    ).conditional_features
    assert new.applies(3, 11, "cpython") and new.applies(3, 13, "pypy")
    assert not new.applies(3, 10, "cpython")
    assert pypy.applies(3, 9, "pypy") and not pypy.applies(3, 9, "cpython")


def test_macos_deployment_target_gives_the_macos_tag_and_leaves_others(monkeypatch) -> None:
    from dataclasses import replace

    from maturin_nox.interpreters import Interpreter
    from maturin_nox.plan import platform_tag

    cfg = read(
        {
            "target": {
                "x86_64-apple-darwin": {"macos-deployment-target": "10.12"},
                "aarch64-apple-darwin": {"macos-deployment-target": "11.0"},
            }
        }
    )
    mac = Interpreter(
        Path("/usr/bin/python3"),
        "cpython",
        (3, 12, 1),
        "",
        ".cpython-312-darwin.so",
        "cpython-312-darwin",
        "macosx-10.9-x86_64",
        "darwin",
        "x86_64",
        64,
        False,
        "/",
        "/",
    )
    assert platform_tag(mac, cfg) == "macosx_10_12_x86_64"
    arm = replace(mac, platform="macosx-11.0-arm64", machine="arm64")
    assert platform_tag(arm, cfg) == "macosx_11_0_arm64"
    assert platform_tag(mac, read({})) == "macosx_10_9_x86_64"  # not configured: the interpreter's
    linux = replace(mac, platform="linux-x86_64", system="linux")
    assert platform_tag(linux, cfg) == "linux_x86_64"  # harmless on Linux
