"""``--pgo``'s phases: finding an llvm-profdata that matches rustc's LLVM (the mismatch
for real, with the machine's LLVM 14 tool), merging (a fake tool), and the training
run in a fresh environment (real)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from maturin_nox import pgo
from maturin_nox.errors import BuildError
from maturin_nox.wheel import WheelWriter

LLVM14 = Path("/usr/lib/llvm-14/bin/llvm-profdata")


def hide_rustup_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$RUSTC is the real rustc, except that it names an empty sysroot: rustup's llvm-tools
    (if installed) are out of sight, so only PATH's llvm-profdata are candidates."""
    from maturin_nox.platform_tags import rust_sysroot

    real = shutil.which("rustc")
    assert real is not None
    empty = tmp_path / "empty-sysroot"
    empty.mkdir()
    wrapper = tmp_path / "rustc"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --print ] && [ "$2" = sysroot ]; then echo {empty}; exit 0; fi\n'
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("RUSTC", str(wrapper))
    rust_sysroot.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_sysroot() -> object:
    from maturin_nox.platform_tags import rust_sysroot

    rust_sysroot.cache_clear()
    yield
    rust_sysroot.cache_clear()


def _only_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tools: dict) -> None:
    """PATH holds the given tools (name -> file) and nothing else; rustup's are hidden."""
    hide_rustup_tools(monkeypatch, tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, source in tools.items():
        (bindir / name).symlink_to(source)
    monkeypatch.setenv("PATH", str(bindir))


def _fake_profdata(tmp_path: Path, major: int) -> Path:
    """An llvm-profdata that says it is LLVM ``major`` and 'merges' by listing its inputs."""
    script = tmp_path / f"fake-llvm-profdata-{major}"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$2" = "--version" ]; then echo "LLVM (http://llvm.org/):"; echo "  LLVM version {major}.1.0"; exit 0; fi\n'
        'if [ "$1" = merge ] && [ "$2" = -o ]; then out="$3"; shift 3; echo "$@" > "$out"; exit 0; fi\n'
        "exit 1\n"
    )
    script.chmod(0o755)
    return script


def test_rustc_says_which_llvm_it_uses() -> None:
    major = pgo.rustc_llvm_major()
    assert major is not None and major >= 10


def test_an_llvm_profdata_of_another_llvm_fails_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not LLVM14.exists():
        pytest.skip("needs Debian's llvm-profdata 14 (/usr/lib/llvm-14/bin/llvm-profdata)")
    major = pgo.rustc_llvm_major()
    if major == 14:
        pytest.skip("rustc uses LLVM 14 here: no mismatch to test")
    _only_on_path(monkeypatch, tmp_path, {"llvm-profdata": LLVM14})
    with pytest.raises(BuildError) as info:
        pgo.find_llvm_profdata()
    text = str(info.value)
    assert "is LLVM 14" in text and f"rustc uses LLVM {major}" in text
    assert "run `rustup component add llvm-tools`" in text and "\n" not in text


def test_no_llvm_profdata_at_all_names_rustup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _only_on_path(monkeypatch, tmp_path, {})
    with pytest.raises(BuildError, match=r"not found; run `rustup component add llvm-tools`"):
        pgo.find_llvm_profdata()


def test_the_versioned_tool_of_rustcs_llvm_is_preferred(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    major = pgo.rustc_llvm_major()
    assert major is not None
    fake = _fake_profdata(tmp_path, major)
    tools = {f"llvm-profdata-{major}": fake}
    if LLVM14.exists():
        tools["llvm-profdata"] = LLVM14
    _only_on_path(monkeypatch, tmp_path, tools)
    assert pgo.find_llvm_profdata() == tmp_path / "bin" / f"llvm-profdata-{major}"


def test_merge_hands_every_profraw_to_llvm_profdata(tmp_path: Path) -> None:
    fake = _fake_profdata(tmp_path, 22)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    with pytest.raises(BuildError, match=r"wrote no \.profraw files"):
        pgo.merge_profiles(fake, profiles)
    for name in ("a_1.profraw", "b_2.profraw", "ignored.txt"):
        (profiles / name).write_text("x")
    merged = pgo.merge_profiles(fake, profiles)
    assert merged == profiles / "merged.profdata"
    assert merged.read_text().split() == [
        str(profiles / "a_1.profraw"),
        str(profiles / "b_2.profraw"),
    ]
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'error: bad profile' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(BuildError, match=r"merge` failed \(exit 3\): error: bad profile"):
        pgo.merge_profiles(broken, profiles)


def test_training_runs_the_command_with_the_wheel_installed(tmp_path: Path) -> None:
    writer = WheelWriter(tmp_path / "wheels", "pgo-probe", "1.0", ["py3-none-any"])
    writer.add_bytes("pgo_probe.py", "def work():\n    return 42\n")
    writer.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: pgo-probe\nVersion: 1.0\n")
    wheel = writer.finish()
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    command = (
        'python -c "import os, sys, pgo_probe; assert pgo_probe.work() == 42; '
        "assert sys.prefix == os.environ['VIRTUAL_ENV']; "
        "open(os.environ['LLVM_PROFILE_FILE'].replace('%m_%p', 'probe'), 'w').write(os.getcwd())\""
    )
    pgo.run_training(
        command,
        python=sys.executable,
        wheel=wheel,
        requirements=[],
        cwd=project,
        profile_dir=profiles,
    )
    assert (profiles / "probe.profraw").read_text() == str(project)
    with pytest.raises(BuildError, match=r"training command failed \(exit 3\): exit 3"):
        pgo.run_training(
            "exit 3",
            python=sys.executable,
            wheel=wheel,
            requirements=[],
            cwd=project,
            profile_dir=profiles,
        )
    assert os.environ.get("LLVM_PROFILE_FILE") is None  # ours, not the caller's environment
