"""maturin 1.16's flags of build, develop, publish, sdist and upload: parsed as maturin
parses them, and resolved into the plan once (unit tests, no cargo)."""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

from maturin_nox import cli
from maturin_nox.config import MaturinConfig
from maturin_nox.errors import BuildError, ConfigError
from maturin_nox.interpreters import Interpreter
from maturin_nox.options import (
    BuildOptions,
    StrictParser,
    add_build_arguments,
    add_output_arguments,
    options_from_args,
)
from maturin_nox.plan import (
    bin_names,
    cargo_command,
    cargo_env,
    plan_targets,
    resolve_compatibility,
    resolve_plan,
)
from maturin_nox.platform_tags import parse_compatibility, parse_triple, require_std, rust_sysroot
from maturin_nox.project import Bindings

CP312 = Interpreter(
    executable=Path("/opt/py312/bin/python3.12"),
    implementation="cpython",
    version=(3, 12, 1),
    abiflags="",
    ext_suffix=".cpython-312-x86_64-linux-gnu.so",
    soabi="cpython-312-x86_64-linux-gnu",
    platform="linux-x86_64",
    system="linux",
    machine="x86_64",
    pointer_width=64,
    gil_disabled=False,
    base_prefix="/opt/py312",
    prefix="/opt/py312",
)


def parse(*argv: str, command: str = "build") -> BuildOptions:
    """The BuildOptions the flags of ``maturin-nox <command>`` give."""
    parser = StrictParser(prog=f"maturin-nox {command}")
    add_build_arguments(parser, command=command)
    add_output_arguments(parser)
    return options_from_args(parser.parse_args(list(argv)))


def namespace(*argv: str) -> argparse.Namespace:
    """The namespace the real command line makes (aliases, global flags)."""
    return cli.build_parser(list(argv)).parse_args(list(argv))


# --- the parser ----------------------------------------------------------------------


def test_flags_not_given_leave_the_defaults() -> None:
    assert parse() == BuildOptions()


@pytest.mark.parametrize(
    "argv, field, value",
    [
        (["--locked"], "locked", True),
        (["--frozen"], "frozen", True),
        (["--offline"], "offline", True),
        (["--config", "a=1", "--config", "b=2"], "config", ("a=1", "b=2")),
        (
            ["-Z", "build-std", "-Z", "unstable-options"],
            "unstable_flags",
            ("build-std", "unstable-options"),
        ),
        (["--timings"], "timings", True),
        (["--ignore-rust-version"], "ignore_rust_version", True),
        (["--color", "never"], "color", "never"),
        (["--future-incompat-report"], "future_incompat_report", True),
        (["-j", "3"], "jobs", 3),
        (["--jobs", "2"], "jobs", 2),
        (["--interpreter-jobs", "4"], "interpreter_jobs", 4),
        (["-v"], "verbose", 1),
        (["-vv"], "verbose", 2),
        (["-q"], "quiet", True),
        (["--target", "aarch64-unknown-linux-gnu"], "target", "aarch64-unknown-linux-gnu"),
        (["--target-dir", "t"], "target_dir", Path("t")),
        (["-i", "3.9", "3.10"], "interpreters", ("3.9", "3.10")),
        (["-i", "3.9", "-i", "3.12", "pypy3.10"], "interpreters", ("3.9", "3.12", "pypy3.10")),
        (["-f"], "find_interpreter", True),
        (["--strip"], "strip", True),
        (["--strip", "true"], "strip", True),
        (["--strip", "false"], "strip", False),
        (["--strip=false"], "strip", False),
        (["--no-strip"], "strip", False),
        (
            ["--compatibility", "2014", "2_28"],
            "compatibility",
            ("manylinux_2_17", "manylinux_2_28"),
        ),
        (["--manylinux", "off"], "compatibility", ("linux",)),
        (
            ["--compatibility", "pypi", "--compatibility", "musllinux_1_2"],
            "compatibility",
            ("pypi", "musllinux_1_2"),
        ),
        (["--compression-method", "bzip2"], "compression_method", "bzip2"),
        (["--compression-level", "9"], "compression_level", 9),
        (["--compression-level", "-3"], "compression_level", -3),
        (["--compression-enable-large-file-support"], "compression_large_file", True),
        (["--include-debuginfo"], "include_debuginfo", True),
        (
            ["--sbom-include", "a.json", "b.json", "--sbom-include", "c.json"],
            "sbom_include",
            ("a.json", "b.json", "c.json"),
        ),
        (["--generate-stubs"], "generate_stubs", True),
        (["--pgo"], "pgo", True),
        (["-F", "a,b", "--features", "c d"], "features", ("a,b", "c d")),
        (["--all-features"], "all_features", True),
        (["--no-default-features"], "no_default_features", True),
        (["-r"], "release", True),
        (["--profile", "bench"], "profile", "bench"),
        (["-m", "x/Cargo.toml"], "manifest_path", Path("x/Cargo.toml")),
        (["-b", "cffi"], "bindings", "cffi"),
        (["--auditwheel", "check"], "auditwheel", "check"),
        (["--skip-auditwheel"], "auditwheel", "skip"),
        (["--zig"], "zig", True),
        (["--", "-C", "target-cpu=native"], "rustc_args", ("-C", "target-cpu=native")),
        (["-i", "3.12", "--", "-C", "opt-level=1"], "rustc_args", ("-C", "opt-level=1")),
    ],
)
def test_each_build_flag_sets_its_option(argv: List[str], field: str, value: Any) -> None:
    options = parse(*argv)
    assert getattr(options, field) == value
    others = {f: v for f, v in vars(options).items() if f != field}
    defaults = {f: v for f, v in vars(BuildOptions()).items() if f != field}
    if field != "rustc_args" or argv[0] != "-i":
        assert others == defaults, f"{argv} changed more than {field}"


def test_target_is_never_taken_for_target_dir() -> None:
    options = parse("--target", "x86_64-unknown-linux-gnu")
    assert options.target == "x86_64-unknown-linux-gnu" and options.target_dir is None
    with pytest.raises(ConfigError, match="--target-d"):
        parse("--target-d", "x")
    with pytest.raises(ConfigError, match="--pip"):
        parse("--pip", "x", command="develop")


def test_interpreters_stop_at_the_rustc_arguments() -> None:
    options = parse("-i", "3.9", "3.10", "--", "-C", "x")
    assert options.interpreters == ("3.9", "3.10") and options.rustc_args == ("-C", "x")


def test_bad_values_fail_with_one_sentence_naming_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"--strip.*'maybe' is not true or false"):
        parse("--strip", "maybe")
    with pytest.raises(ConfigError, match=r"--compatibility.*'manylinux_x' is not a compatibility"):
        parse("--compatibility", "manylinux_x")
    with pytest.raises(ConfigError, match="--jobs"):
        parse("-j", "0")
    with pytest.raises(ConfigError, match="--color"):
        parse("--color", "sometimes")
    with pytest.raises(ConfigError, match="--compression-method"):
        parse("--compression-method", "lzma")


def test_maturin_strip_and_maturin_pgo_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MATURIN_STRIP", "true")
    assert parse().strip is True
    assert parse("--strip", "false").strip is False  # the flag wins
    monkeypatch.setenv("MATURIN_STRIP", "false")
    assert parse().strip is False
    monkeypatch.setenv("MATURIN_STRIP", "perhaps")
    with pytest.raises(ConfigError, match="MATURIN_STRIP"):
        parse()
    monkeypatch.delenv("MATURIN_STRIP")
    assert parse().strip is None
    for value, wanted in (("1", True), ("yes", True), ("0", False), ("false", False), ("", False)):
        monkeypatch.setenv("MATURIN_PGO", value)
        assert parse().pgo is wanted, value


def test_publish_takes_debug_no_strip_and_no_sdist() -> None:
    options = parse("--debug", "--no-strip", "--pgo", command="publish")
    assert options.release is False and options.profile == "dev" and options.strip is False
    assert options.pgo is True
    with pytest.raises(ConfigError):
        parse("--strip", command="publish")  # maturin publish has only --no-strip
    ns = namespace("publish", "--no-sdist", "--debug", "-r", "testpypi", "--skip-existing")
    assert ns.no_sdist and ns.repository == "testpypi" and ns.skip_existing


def test_develop_takes_maturins_flags_and_not_the_wheel_only_ones() -> None:
    ns = namespace("develop", "-E", "a,b", "-G", "test", "--group", "docs", "--pip-path", "/p/pip")
    assert ns.extras == ["a,b"] and ns.group == ["test", "docs"] and ns.pip_path == Path("/p/pip")
    ns = namespace("develop", "--uv", "--skip-install", "--pip-arg=--no-index", "-r", "--strip")
    assert ns.uv and ns.skip_install and ns.pip_arg == ["--no-index"] and ns.release and ns.strip
    assert namespace("develop").group is None  # maturin's default: the dev group
    for flag in (
        "--compatibility",
        "--zig",
        "--auditwheel",
        "--sbom-include",
        "--include-debuginfo",
    ):
        with pytest.raises(SystemExit):
            namespace("develop", flag, "x")


def test_sdist_and_upload_take_maturins_flags() -> None:
    ns = namespace("sdist", "-m", "a/Cargo.toml", "-o", "dist", "-v")
    assert ns.manifest_path == Path("a/Cargo.toml") and ns.out == Path("dist") and ns.verbose == 1
    ns = namespace(
        "upload",
        "-r",
        "x",
        "--repository-url",
        "http://i",
        "-u",
        "me",
        "-p",
        "pw",
        "--skip-existing",
        "--non-interactive",
        "-v",
        "a.whl",
        "b.tar.gz",
    )
    assert ns.repository == "x" and ns.repository_url == "http://i" and ns.username == "me"
    assert ns.password == "pw" and ns.skip_existing and ns.non_interactive
    assert ns.files == [Path("a.whl"), Path("b.tar.gz")]
    assert namespace("upload").files == []  # as maturin: no files is a warning


def test_aliases_and_a_global_verbose_flag() -> None:
    assert namespace("b", "-r").func.__module__.endswith("cmd_build")
    assert namespace("dev").func.__module__.endswith("cmd_develop")
    assert cli._wanted(["b", "-r"]) == "cmd_build"
    assert cli._wanted(["-v", "dev"]) == "cmd_develop"
    assert cli._wanted(["-vv", "build", "-i", "3.12"]) == "cmd_build"
    assert namespace("-v", "build").global_verbose == 1
    assert namespace("-vv", "build", "-v").verbose == 1


def test_each_alias_of_a_command_module_is_known_to_the_lazy_loader() -> None:
    for name in cli._command_modules():
        module = importlib.import_module(f"maturin_nox.cli.{name}")
        for alias in getattr(module, "ALIASES", ()):
            assert cli._wanted([alias]) == name


def test_main_adds_the_global_verbose_count_to_the_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: List[argparse.Namespace] = []
    from maturin_nox.cli import cmd_build

    monkeypatch.setattr(cmd_build, "run", lambda args: seen.append(args) or 0)
    assert cli.main(["-v", "build", "-v", "-i", "3.12"]) == 0
    assert seen[0].verbose == 2 and not hasattr(seen[0], "global_verbose")
    assert options_from_args(seen[0]).verbose == 2


def test_backend_build_args_take_the_build_flags() -> None:
    from maturin_nox import backend

    chosen = backend.hook_options({"build-args": "--target x86_64-unknown-linux-gnu -j 2 --locked"})
    assert chosen.target == "x86_64-unknown-linux-gnu" and chosen.jobs == 2 and chosen.locked


# --- triples and compatibility values ---------------------------------------------------


@pytest.mark.parametrize(
    "triple, arch, libc",
    [
        ("x86_64-unknown-linux-gnu", "x86_64", "glibc"),
        ("x86_64-unknown-linux-musl", "x86_64", "musl"),
        ("i686-unknown-linux-gnu", "i686", "glibc"),
        ("aarch64-unknown-linux-gnu", "aarch64", "glibc"),
        ("aarch64-unknown-linux-musl", "aarch64", "musl"),
        ("armv7-unknown-linux-gnueabihf", "armv7l", "glibc"),
        ("armv7-unknown-linux-musleabihf", "armv7l", "musl"),
        ("arm-unknown-linux-gnueabihf", "armv6l", "glibc"),
        ("powerpc64le-unknown-linux-gnu", "ppc64le", "glibc"),
        ("powerpc64-unknown-linux-gnu", "ppc64", "glibc"),
        ("s390x-unknown-linux-gnu", "s390x", "glibc"),
        ("riscv64gc-unknown-linux-gnu", "riscv64", "glibc"),
        ("loongarch64-unknown-linux-gnu", "loongarch64", "glibc"),
    ],
)
def test_linux_triples_map_to_platform_tag_architectures(triple: str, arch: str, libc: str) -> None:
    parsed = parse_triple(triple)
    assert parsed.arch == arch and parsed.libc == libc and parsed.is_linux
    assert parsed.linux_tag() == f"linux_{arch}"


def test_other_triples_are_not_linux() -> None:
    assert parse_triple("x86_64-pc-windows-msvc").os == "windows"
    assert parse_triple("aarch64-apple-darwin").os == "macos"
    with pytest.raises(ConfigError, match="not a Rust target triple"):
        parse_triple("linux")


def test_extension_suffixes_follow_the_triple() -> None:
    suffix = ".cpython-312-x86_64-linux-gnu.so"
    assert (
        parse_triple("aarch64-unknown-linux-gnu").ext_suffix(suffix)
        == ".cpython-312-aarch64-linux-gnu.so"
    )
    assert (
        parse_triple("i686-unknown-linux-gnu").ext_suffix(suffix)
        == ".cpython-312-i386-linux-gnu.so"
    )
    assert (
        parse_triple("armv7-unknown-linux-gnueabihf").ext_suffix(suffix)
        == ".cpython-312-arm-linux-gnueabihf.so"
    )
    assert (
        parse_triple("x86_64-unknown-linux-musl").ext_suffix(suffix)
        == ".cpython-312-x86_64-linux-musl.so"
    )
    assert parse_triple("aarch64-unknown-linux-gnu").ext_suffix(".abi3.so") == ".abi3.so"


@pytest.mark.parametrize(
    "value, canonical",
    [
        ("1", "manylinux_2_5"),
        ("manylinux1", "manylinux_2_5"),
        ("2010", "manylinux_2_12"),
        ("manylinux2010", "manylinux_2_12"),
        ("2014", "manylinux_2_17"),
        ("manylinux2014", "manylinux_2_17"),
        ("2_28", "manylinux_2_28"),
        ("manylinux_2_28", "manylinux_2_28"),
        ("MANYLINUX_2_17", "manylinux_2_17"),
        ("manylinux_2_28_x86_64", "manylinux_2_28"),
        ("musllinux_1_2", "musllinux_1_2"),
        ("linux", "linux"),
        ("off", "linux"),
        ("pypi", "pypi"),
    ],
)
def test_compatibility_values_as_maturin_reads_them(value: str, canonical: str) -> None:
    assert parse_compatibility(value) == canonical


def test_a_target_without_its_standard_library_fails_naming_rustup() -> None:
    if rust_sysroot() is None:
        pytest.skip("rustc --print sysroot does not work here")
    require_std("x86_64-unknown-linux-gnu")  # installed: the host's
    if (rust_sysroot() / "lib" / "rustlib" / "aarch64-unknown-linux-gnu").is_dir():  # type: ignore[operator]
        pytest.skip("aarch64-unknown-linux-gnu is installed here")
    with pytest.raises(BuildError) as info:
        require_std("aarch64-unknown-linux-gnu")
    assert str(info.value).endswith("run `rustup target add aarch64-unknown-linux-gnu`.")
    require_std("aarch64-unknown-linux-gnu", ["build-std=core"])  # -Z build-std makes its own
    require_std("my-target.json")


# --- the plan ------------------------------------------------------------------------------


class FakeProject:
    """What resolve_plan reads of a project, without cargo."""

    def __init__(
        self,
        kind: str = "pyo3",
        config: Optional[MaturinConfig] = None,
        target: Optional[str] = None,
        flags: Tuple[str, ...] = (),
        root: Path = Path("/p"),
    ) -> None:
        self.bindings = Bindings(kind)
        self.config = config or MaturinConfig()
        self.target = target
        self.shared = flags
        self.root = root
        self.manifest_path = root / "Cargo.toml"
        self.pyproject_path = root / "pyproject.toml"
        self.target_directory = root / "target"
        self.features: Tuple[str, ...] = ()
        self.all_features = False
        self.no_default_features = False
        self.bin_targets = [{"name": "one"}, {"name": "two"}]

    def cargo_flags(self) -> List[str]:
        return list(self.shared)


def plan_for(project: FakeProject, **options: Any) -> Any:
    return resolve_plan(project, BuildOptions(**options), interpreters=[CP312])  # type: ignore[arg-type]


def command(plan: Any) -> List[str]:
    return cargo_command(plan, plan.targets[0], cargo="cargo")


def test_cargo_flags_reach_the_build_command_in_maturins_order() -> None:
    project = FakeProject(flags=("--locked", "--offline", "--config", "a=1", "-Z", "x"))
    plan = plan_for(
        project,
        jobs=1,
        timings=True,
        ignore_rust_version=True,
        color="always",
        future_incompat_report=True,
        verbose=2,
        quiet=True,
        rustc_args=("-C", "target-cpu=native"),
        cargo_args=("--keep-going",),
    )
    cmd = command(plan)
    assert cmd[:5] == ["cargo", "rustc", "--lib", "--crate-type", "cdylib"]
    tail = cmd[cmd.index("--message-format=json-render-diagnostics") + 1 :]
    assert tail == [
        "--locked",
        "--offline",
        "--config",
        "a=1",
        "-Z",
        "x",
        "--quiet",
        "--jobs",
        "1",
        "-vv",
        "--color",
        "always",
        "--timings",
        "--ignore-rust-version",
        "--future-incompat-report",
        "--keep-going",
        "--",
        "-C",
        "target-cpu=native",
    ]


def test_rustc_args_replace_the_pyproject_ones_and_strip_and_debuginfo_follow() -> None:
    config = MaturinConfig(rustc_args=("-C", "opt-level=1"))
    assert plan_for(FakeProject(config=config)).rustc_args == ("-C", "opt-level=1")
    given = plan_for(FakeProject(config=config), rustc_args=("-C", "lto"), strip=True)
    assert given.rustc_args == ("-C", "lto", "-C", "strip=symbols")
    debug = plan_for(FakeProject(), include_debuginfo=True)
    assert debug.rustc_args == ("-C", "split-debuginfo=packed") and debug.include_debuginfo
    assert not plan_for(FakeProject(), include_debuginfo=True, strip=True).include_debuginfo


def test_binaries_get_one_cargo_rustc_each_when_rustc_args_are_given() -> None:
    plain = plan_for(FakeProject("bin"))
    assert bin_names(plain) == [None] and command(plain)[:3] == ["cargo", "build", "--bins"]
    tuned = plan_for(FakeProject("bin"), rustc_args=("-C", "target-cpu=native"))
    assert bin_names(tuned) == ["one", "two"]
    cmd = cargo_command(tuned, tuned.targets[0], cargo="cargo", bin_name="two")
    assert cmd[:4] == ["cargo", "rustc", "--bin", "two"] and cmd[-2:] == ["-C", "target-cpu=native"]


def test_a_target_triple_gets_its_own_target_dir_flag_and_tags() -> None:
    host = plan_for(FakeProject())
    plan = plan_for(FakeProject(target="x86_64-unknown-linux-gnu"))
    assert plan.target_dir(plan.targets[0]) != host.target_dir(host.targets[0])
    assert plan.target_dir(plan.targets[0]).name.endswith("-x86_64-unknown-linux-gnu")
    cmd = command(plan)
    assert cmd[cmd.index("--target") + 1] == "x86_64-unknown-linux-gnu"
    assert "--target" not in command(host)
    assert plan.platform(plan.targets[0]) == "linux_x86_64"
    assert plan.cross is None and plan.targets[0].ext_suffix == CP312.ext_suffix


def test_a_cross_target_changes_the_suffix_and_tells_pyo3_the_version() -> None:
    from maturin_nox.platform_tags import parse_triple

    triple = parse_triple("aarch64-unknown-linux-gnu")
    (target,) = plan_targets(FakeProject(), [CP312], triple)  # type: ignore[arg-type]
    assert target.ext_suffix == ".cpython-312-aarch64-linux-gnu.so"
    env = cargo_env(FakeProject(), target, triple)  # type: ignore[arg-type]
    assert env["PYO3_CROSS_PYTHON_VERSION"] == "3.12"
    assert env["PYO3_CROSS_PYTHON_IMPLEMENTATION"] == "CPython"


def test_a_target_whose_std_is_missing_fails_before_cargo() -> None:
    if (
        rust_sysroot() is None
        or (rust_sysroot() / "lib/rustlib/aarch64-unknown-linux-gnu").is_dir()
    ):  # type: ignore[operator]
        pytest.skip("needs a toolchain without aarch64-unknown-linux-gnu")
    with pytest.raises(BuildError, match="rustup target add aarch64-unknown-linux-gnu"):
        plan_for(FakeProject(target="aarch64-unknown-linux-gnu"))
    with pytest.raises(ConfigError, match="only to Linux targets"):
        plan_for(FakeProject(target="x86_64-pc-windows-msvc"))


def test_compatibility_picks_the_lowest_policy_of_the_targets_libc() -> None:
    plan = plan_for(FakeProject(), compatibility=("manylinux_2_28", "2014"))
    assert (plan.compatibility, plan.extra_policies, plan.pypi) == (
        "manylinux_2_17",
        ("manylinux_2_28",),
        False,
    )
    plan = plan_for(FakeProject(), compatibility=("pypi",))
    assert (plan.compatibility, plan.pypi) == ("pypi", True)
    plan = plan_for(FakeProject(), compatibility=("pypi", "2_28"))
    assert (plan.compatibility, plan.pypi) == ("manylinux_2_28", True)
    musl = parse_triple("x86_64-unknown-linux-musl")  # its std need not be installed for this
    wanted = BuildOptions(compatibility=("2014", "musllinux_1_2"))
    assert resolve_compatibility(FakeProject(), wanted, musl) == ("musllinux_1_2", (), False)  # type: ignore[arg-type]
    off = plan_for(FakeProject(), compatibility="off")  # a plain string, as API callers pass
    assert off.compatibility == "linux" and not off.audits
    config = MaturinConfig(compatibility="2_28")
    assert plan_for(FakeProject(config=config)).compatibility == "manylinux_2_28"
    assert (
        plan_for(FakeProject(config=config), compatibility=("2014",)).compatibility
        == "manylinux_2_17"
    )
    assert plan_for(FakeProject()).compatibility is None


def test_compatibility_refuses_linux_mixed_with_portable_tags_or_pypi() -> None:
    with pytest.raises(ConfigError, match="mixes linux"):
        plan_for(FakeProject(), compatibility=("linux", "2014"))
    with pytest.raises(ConfigError, match="mixes linux with pypi"):
        plan_for(FakeProject(), compatibility=("pypi", "off"))
    with pytest.raises(ConfigError, match=r"tool\.maturin\.compatibility"):
        plan_for(FakeProject(config=MaturinConfig(compatibility="many")))


def test_interpreter_jobs_are_ours_and_cargo_jobs_are_cargos() -> None:
    plan = plan_for(FakeProject(), interpreter_jobs=1, jobs=7)
    assert plan.interpreter_jobs == 1 and "--jobs" in command(plan)
    assert command(plan)[command(plan).index("--jobs") + 1] == "7"


def test_compression_defaults_fast_for_dev_and_editable_maturins_for_release() -> None:
    assert plan_for(FakeProject()).compression.method == "stored"
    assert plan_for(FakeProject(), editable=True, release=True).compression.method == "stored"
    release = plan_for(FakeProject(), release=True).compression
    assert (release.method, release.level) == ("deflated", 6)
    level = plan_for(FakeProject(), compression_level=1).compression
    assert (level.method, level.level) == ("deflated", 1)
    given = plan_for(FakeProject(), compression_method="bzip2", compression_large_file=True)
    assert (given.compression.method, given.compression.level, given.compression.large_file) == (
        "bzip2",
        6,
        True,
    )


def test_bad_compression_settings_fail_naming_the_flag() -> None:
    with pytest.raises(
        ConfigError, match="--compression-level 10 is not a level of deflated: use 0 to 9"
    ):
        plan_for(FakeProject(), compression_level=10)
    with pytest.raises(ConfigError, match="stored: use 0 to 0"):
        plan_for(FakeProject(), compression_method="stored", compression_level=3)
    if sys.version_info < (3, 14):
        with pytest.raises(ConfigError, match=r"zstd needs maturin-nox to run on Python 3\.14"):
            plan_for(FakeProject(), compression_method="zstd")


def test_pgo_needs_a_training_command_and_builds_release() -> None:
    with pytest.raises(ConfigError, match=r"tool\.maturin\.pgo-command"):
        plan_for(FakeProject(), pgo=True)
    plan = plan_for(FakeProject(config=MaturinConfig(pgo_command="python -c 1")), pgo=True)
    assert plan.pgo_command == "python -c 1" and plan.profile == "release"
    assert plan.interpreter_jobs == 1
    generate = replace(plan, pgo_command=None, pgo_phase="generate")
    assert generate.target_dir(plan.targets[0]).name.endswith("-pgo-generate")


def test_generate_stubs_is_passed_on_or_fails_before_cargo() -> None:
    import importlib.util

    if importlib.util.find_spec("maturin_nox.stubs") is not None:
        assert plan_for(FakeProject(), generate_stubs=True).generate_stubs
    else:
        with pytest.raises(ConfigError, match="--generate-stubs needs the stub generator"):
            plan_for(FakeProject(), generate_stubs=True)


def test_sbom_includes_of_the_flag_follow_the_tables() -> None:
    config = MaturinConfig(sbom_include=("a.json", "b.json"))
    plan = plan_for(FakeProject(config=config), sbom_include=("b.json", "c.json"))
    assert plan.sbom_include == ("a.json", "b.json", "c.json")


# --- dependency groups (develop -G) ---------------------------------------------------------


class GroupsProject:
    def __init__(self, groups: Any) -> None:
        self.pyproject = {"dependency-groups": groups}
        self.pyproject_path = Path("/p/pyproject.toml")
        self.root = Path("/p")


def test_dependency_groups_follow_include_group_in_order() -> None:
    from maturin_nox.groups import group_requirements

    project = GroupsProject(
        {
            "test": ["pytest>=7", {"include-group": "Typing_Stuff"}],
            "typing-stuff": ["mypy", "pytest>=7"],
            "docs": ["sphinx"],
        }
    )
    assert group_requirements(project, ["test"]) == ["pytest>=7", "mypy"]  # type: ignore[arg-type]
    assert group_requirements(project, ["docs", "test"]) == ["sphinx", "pytest>=7", "mypy"]  # type: ignore[arg-type]


def test_bad_dependency_groups_fail_naming_the_group() -> None:
    from maturin_nox.groups import group_requirements

    with pytest.raises(ConfigError, match=r"no dependency group 'lint'.*the groups are: docs"):
        group_requirements(GroupsProject({"docs": []}), ["lint"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        group_requirements(
            GroupsProject({"a": [{"include-group": "b"}], "b": [{"include-group": "a"}]}), ["a"]
        )  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="neither a requirement string"):
        group_requirements(GroupsProject({"a": [3]}), ["a"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be a list"):
        group_requirements(GroupsProject({"a": "pytest"}), ["a"])  # type: ignore[arg-type]


# --- rustflags for every crate (PGO) --------------------------------------------------------


def test_rustflags_go_where_cargo_reads_them(tmp_path: Path) -> None:
    from maturin_nox.rustflags import with_rustflags

    home = {"CARGO_HOME": str(tmp_path / "home")}
    crate = tmp_path / "crate"
    crate.mkdir()
    flags = ["-Cprofile-generate=/tmp/a b"]
    args, env = with_rustflags(flags, triple="x86_64-unknown-linux-gnu", cwd=crate, env=home)
    assert args == ["--config", 'build.rustflags=["-Cprofile-generate=/tmp/a b"]'] and env == {}
    # the user's RUSTFLAGS stay: appended, in the encoded form that allows spaces
    args, env = with_rustflags(
        flags, triple="t", cwd=crate, env={**home, "RUSTFLAGS": "-C opt-level=2"}
    )
    assert args == [] and env == {
        "CARGO_ENCODED_RUSTFLAGS": "-C\x1fopt-level=2\x1f-Cprofile-generate=/tmp/a b"
    }
    _, env = with_rustflags(
        flags, triple="t", cwd=crate, env={**home, "CARGO_ENCODED_RUSTFLAGS": "-Cx"}
    )
    assert env["CARGO_ENCODED_RUSTFLAGS"] == "-Cx\x1f-Cprofile-generate=/tmp/a b"
    # a target.<triple>.rustflags in a config file hides build.rustflags: join that one instead
    (tmp_path / ".cargo").mkdir()
    (tmp_path / ".cargo" / "config.toml").write_text(
        "[target.'cfg(unix)']\nrustflags = ['-Cforce-frame-pointers']\n"
    )
    args, _ = with_rustflags(flags, triple="x86_64-unknown-linux-gnu", cwd=crate, env=home)
    assert args[1].startswith("target.x86_64-unknown-linux-gnu.rustflags=")
    assert with_rustflags([], triple="t", cwd=crate, env=home) == ([], {})
