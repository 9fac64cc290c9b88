"""The packaged policy data against auditwheel's policy files, and policy lookups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from maturin_nox.audit.policy import (
    canonical_policy_name,
    policies_for,
    policy_by_name,
)
from maturin_nox.errors import ConfigError

auditwheel_policy = pytest.importorskip("auditwheel.policy")
AUDITWHEEL_DATA = Path(auditwheel_policy.__file__).parent
OURS: Dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "maturin_nox/audit/policies/policies.json").read_text()
)


def _theirs(filename: str) -> List[Dict[str, Any]]:
    return [p for p in json.loads((AUDITWHEEL_DATA / filename).read_text()) if p["name"] != "linux"]


@pytest.mark.parametrize(
    "filename,libc", [("manylinux-policy.json", "glibc"), ("musllinux-policy.json", "musl")]
)
def test_policy_data_matches_auditwheel(filename: str, libc: str) -> None:
    ours = {p["name"]: p for p in OURS["policies"] if p["libc"] == libc}
    theirs = _theirs(filename)
    assert sorted(ours) == sorted(p["name"] for p in theirs)
    for policy in theirs:
        mine = ours[policy["name"]]
        assert mine["aliases"] == policy["aliases"], policy["name"]
        assert mine["priority"] == policy["priority"], policy["name"]
        assert set(mine["libraries"]) == set(policy["lib_whitelist"]), policy["name"]
        assert {k: set(v) for k, v in mine["blacklist"].items()} == {
            k: set(v) for k, v in policy["blacklist"].items()
        }, policy["name"]
        assert set(mine["symbol_versions"]) == set(policy["symbol_versions"]), policy["name"]
        for arch, prefixes in policy["symbol_versions"].items():
            assert {k: set(v) for k, v in mine["symbol_versions"][arch].items()} == {
                k: set(v) for k, v in prefixes.items()
            }, (policy["name"], arch)


def test_newest_manylinux_policy_is_known() -> None:
    newest = max(_theirs("manylinux-policy.json"), key=lambda p: -p["priority"])
    names = [p.name for p in policies_for("glibc", "x86_64")]
    assert newest["name"] in names
    assert names[0] == "manylinux_2_5" and names[-1] == "linux"


def test_policies_are_best_first_and_tag_with_aliases() -> None:
    policies = policies_for("glibc", "x86_64")
    assert [p.priority for p in policies] == sorted((p.priority for p in policies), reverse=True)
    p2014 = policy_by_name("manylinux2014", "glibc", "x86_64")
    assert p2014.name == "manylinux_2_17"
    assert p2014.tags() == ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
    assert policy_by_name("manylinux1", "glibc", "i686").tags() == (
        "manylinux_2_5_i686",
        "manylinux1_i686",
    )
    assert policy_by_name("manylinux_2_28", "glibc", "aarch64").tags() == (
        "manylinux_2_28_aarch64",
    )


def test_symbol_versions_and_prefixes() -> None:
    p = policy_by_name("manylinux_2_17", "glibc", "x86_64")
    assert p.allows_version("GLIBC_2.17")
    assert not p.allows_version("GLIBC_2.18")
    assert not p.allows_version("GLIBCXX_3.4.20")
    assert p.allows_version("OPENSSL_3.0.0")  # not a policy prefix: not its business
    assert "libc.so.6" in p.libraries and "libssl.so.3" not in p.libraries
    assert "__cxa_thread_atexit_impl" in p.blacklist["libc.so.6"]


def test_musllinux_allows_both_musl_libc_names() -> None:
    p = policy_by_name("musllinux_1_2", "musl", "x86_64")
    assert {"libc.so", "libc.musl-x86_64.so.1"} <= p.libraries
    assert p.tags() == ("musllinux_1_2_x86_64",)


def test_canonical_names_and_bad_names() -> None:
    assert canonical_policy_name("manylinux2010") == "manylinux_2_12"
    assert canonical_policy_name("MANYLINUX_2_28") == "manylinux_2_28"
    assert canonical_policy_name("linux") == "linux"
    with pytest.raises(ConfigError, match="manylinux3000"):
        canonical_policy_name("manylinux3000")
    with pytest.raises(ConfigError, match="musllinux_1_2"):
        policy_by_name("musllinux_1_2", "glibc", "x86_64")
    with pytest.raises(ConfigError, match="ppc64"):
        policy_by_name("manylinux_2_5", "glibc", "ppc64")
