"""Audit and repair of real ELF files: tiny C libraries and extensions built with gcc.

A shared library ``libtinymath.so.1`` and a CPython extension ``tinyext`` that
links it are compiled once per session; the repair test puts the extension in a
wheel, repairs it, installs it in a fresh venv and imports it after the original
library has been moved out of reach.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict

import pytest

from maturin_nox.audit import (
    analyze_wheel,
    apply_repair,
    decide_platform,
    repair_wheel,
    zig_build_command,
)
from maturin_nox.audit.analyze import analyze_members
from maturin_nox.audit.elf import read_elf
from maturin_nox.audit.libsearch import parse_ld_so_conf
from maturin_nox.errors import AuditError
from maturin_nox.wheel import WheelWriter, read_wheel

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None,
    reason="needs Linux and gcc",
)

EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
TINYMATH = "int tiny_add(int a, int b) { return a + b; }\n"
TINYEXT = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
int tiny_add(int, int);
static PyObject *add(PyObject *self, PyObject *args) {
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b)) return NULL;
    return PyLong_FromLong(tiny_add(a, b));
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "tinyext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_tinyext(void) { return PyModule_Create(&mod); }
"""
NEWGLIBC = r"""
#include <stdlib.h>
#include <stdint.h>
uint32_t draw(void) { return arc4random(); }  /* GLIBC_2.36 */
void *PyInit_newglibc(void) { return 0; }
"""
BLACKLISTED = r"""
extern int __cxa_thread_atexit_impl(void (*)(void *), void *, void *);
int hook(void) { return __cxa_thread_atexit_impl(0, 0, 0); }
void *PyInit_blacklisted(void) { return 0; }
"""
WITH_LIBPYTHON = "extern int Py_fake;\nint tiny(void) { return Py_fake; }\nvoid *PyInit_withpy(void) { return 0; }\n"


def _gcc(out: Path, source: str, *args: str) -> Path:
    src = out.with_name(out.name.split(".", 1)[0] + ".c")
    src.write_text(source)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src), *args], check=True)
    return out


@pytest.fixture(scope="session")
def native(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """The compiled objects: libdir, libtinymath, tinyext, newglibc, blacklisted, withpy."""
    root = tmp_path_factory.mktemp("native")
    libdir = root / "lib"
    libdir.mkdir()
    lib = _gcc(libdir / "libtinymath.so.1", TINYMATH, "-Wl,-soname,libtinymath.so.1")
    fakepy = _gcc(
        libdir / "libpython3.11.so.1.0", "int Py_fake;\n", "-Wl,-soname,libpython3.11.so.1.0"
    )
    ext_dir = root / "ext"
    ext_dir.mkdir()
    include = sysconfig.get_paths()["include"]
    tinyext = _gcc(
        ext_dir / f"tinyext{EXT_SUFFIX}",
        TINYEXT,
        f"-I{include}",
        f"-L{libdir}",
        "-l:libtinymath.so.1",
        "-Wl,-rpath,$ORIGIN/../nowhere",
    )
    newglibc = _gcc(ext_dir / f"newglibc{EXT_SUFFIX}", NEWGLIBC)
    blacklisted = _gcc(ext_dir / f"blacklisted{EXT_SUFFIX}", BLACKLISTED)
    withpy = _gcc(
        ext_dir / f"withpy{EXT_SUFFIX}", WITH_LIBPYTHON, f"-L{libdir}", "-l:libpython3.11.so.1.0"
    )
    other_arch = ext_dir / f"otherarch{EXT_SUFFIX}"
    data = bytearray(tinyext.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
    other_arch.write_bytes(bytes(data))
    return {
        "libdir": libdir,
        "lib": lib,
        "fakepy": fakepy,
        "tinyext": tinyext,
        "newglibc": newglibc,
        "blacklisted": blacklisted,
        "withpy": withpy,
        "other_arch": other_arch,
    }


@pytest.fixture(autouse=True)
def _no_ld_library_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)


def test_elf_facts_are_read(native: Dict[str, Path]) -> None:
    ext = read_elf(native["tinyext"])
    assert ext.arch == "x86_64" and ext.elf_class == 64
    assert ext.needed == ("libtinymath.so.1",)  # gcc links --as-needed
    assert (ext.runpath or ext.rpath) == ("$ORIGIN/../nowhere",)
    assert ext.is_extension() and not ext.is_musl
    assert read_elf(native["newglibc"]).is_glibc
    assert read_elf(native["lib"]).soname == "libtinymath.so.1"
    newglibc = read_elf(native["newglibc"])
    assert newglibc.version_needs["libc.so.6"]["GLIBC_2.36"] == "arc4random"


def test_check_mode_names_the_external_library(native: Dict[str, Path]) -> None:
    with pytest.raises(
        AuditError,
        match=r"libtinymath\.so\.1 is not allowed by manylinux_2_17 "
        r"\(found at .*lib/libtinymath\.so\.1\).*repair",
    ):
        decide_platform(
            [native["tinyext"]],
            compatibility="manylinux2014",
            mode="check",
            libs_dir="tinyext.libs",
            lib_dirs=[native["libdir"]],
        )


def test_repair_mode_fails_clearly_when_the_library_is_nowhere(native: Dict[str, Path]) -> None:
    with pytest.raises(AuditError, match=r"libtinymath\.so\.1 .*was not found on this machine"):
        decide_platform(
            [native["tinyext"]],
            compatibility="manylinux_2_17",
            mode="repair",
            libs_dir="tinyext.libs",
        )


def test_default_compatibility_grafts_the_library(native: Dict[str, Path]) -> None:
    decision = decide_platform(
        [native["tinyext"]],
        compatibility=None,
        mode="repair",
        libs_dir="tinyext.libs",
        lib_dirs=[native["libdir"]],
    )
    assert decision.policy == "manylinux_2_5"
    assert decision.platform_tags == ("manylinux_2_5_x86_64", "manylinux1_x86_64")
    (graft,) = decision.grafts
    assert graft.original_soname == "libtinymath.so.1"
    assert graft.soname.startswith("libtinymath-") and graft.soname.endswith(".so.1")
    assert graft.arcname == f"tinyext.libs/{graft.soname}"
    assert graft.source == native["lib"].resolve()


def test_ld_library_path_is_searched(
    native: Dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", str(native["libdir"]))
    decision = decide_platform(
        [native["tinyext"]], compatibility="manylinux_2_17", mode="repair", libs_dir="x.libs"
    )
    assert [g.original_soname for g in decision.grafts] == ["libtinymath.so.1"]


def test_check_mode_names_symbol_version_and_the_way_out(native: Dict[str, Path]) -> None:
    with pytest.raises(AuditError) as info:
        decide_platform(
            [native["newglibc"]], compatibility="manylinux_2_17", mode="check", libs_dir="x.libs"
        )
    message = str(info.value)
    assert "needs GLIBC_2.36 (symbol `arc4random`)" in message
    assert "manylinux_2_17 does not allow" in message
    assert "build with --zig or choose --compatibility manylinux_2_36" in message
    # Grafting cannot fix symbol versions: repair mode fails the same way.
    with pytest.raises(AuditError, match=r"GLIBC_2\.36"):
        decide_platform(
            [native["newglibc"]], compatibility="manylinux_2_17", mode="repair", libs_dir="x.libs"
        )


def test_warn_mode_tags_as_asked_and_reports(native: Dict[str, Path]) -> None:
    decision = decide_platform(
        [native["newglibc"]], compatibility="manylinux_2_17", mode="warn", libs_dir="x.libs"
    )
    assert decision.platform_tags == ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
    assert any("GLIBC_2.36" in m for m in decision.messages)
    best = decide_platform(
        [native["newglibc"]], compatibility=None, mode="check", libs_dir="x.libs"
    )
    assert best.platform_tags == ("manylinux_2_36_x86_64",)


def test_skip_linux_and_other_platforms_need_no_analysis(native: Dict[str, Path]) -> None:
    not_elf = native["libdir"] / "not-an-elf.so"
    not_elf.write_text("hello")
    assert decide_platform(
        [not_elf], compatibility="off", mode="repair", libs_dir="x", platform_tag="linux_x86_64"
    ).platform_tags == ("linux_x86_64",)
    assert decide_platform(
        [not_elf],
        compatibility="manylinux2014",
        mode="skip",
        libs_dir="x",
        platform_tag="linux_x86_64",
    ).platform_tags == ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
    assert decide_platform(
        [not_elf], compatibility=None, mode="repair", libs_dir="x", platform_tag="macosx_11_0_arm64"
    ).platform_tags == ("macosx_11_0_arm64",)


def test_a_program_may_link_libpython_and_a_library_may_not(native: Dict[str, Path]) -> None:
    # as maturin: a bin embedding Python (pyo3's auto-initialize) runs on the user's
    # libpython, so it is neither an obstacle nor grafted; any library linking it is refused
    folder = native["libdir"].parent / "programs"
    folder.mkdir(exist_ok=True)
    source = folder / "embed.c"
    source.write_text("extern int Py_fake;\nint main(void) { return Py_fake; }\n")
    program = folder / "embed"
    link = [f"-L{native['libdir']}", "-l:libpython3.11.so.1.0"]
    subprocess.run(["gcc", "-o", str(program), str(source), *link], check=True)
    assert read_elf(program).interpreter is not None
    decision = decide_platform(
        [program], compatibility=None, mode="repair", libs_dir="x", lib_dirs=[native["libdir"]]
    )
    assert decision.platform_tags[0].startswith("manylinux_2_"), decision.platform_tags
    assert not decision.grafts, "libpython was grafted into the wheel"
    library = _gcc(
        folder / "libplain.so", "extern int Py_fake;\nint f(void) { return Py_fake; }\n", *link
    )
    with pytest.raises(
        AuditError, match=r"libplain.so links libpython3.11.so.1.0, which a library"
    ):
        decide_platform(
            [library], compatibility=None, mode="repair", libs_dir="x", lib_dirs=[native["libdir"]]
        )


def test_libpython_link_fails_every_audited_build(native: Dict[str, Path]) -> None:
    # as maturin: whatever the policy and mode, unless the audit is off
    for compatibility in ("pypi", None, "manylinux2014"):
        for mode in ("repair", "check", "warn"):
            with pytest.raises(AuditError, match=r"links libpython3.* a library must not do"):
                decide_platform(
                    [native["withpy"]],
                    compatibility=compatibility,
                    mode=mode,
                    libs_dir="x",
                    lib_dirs=[native["libdir"]],
                )
    decision = decide_platform(
        [native["withpy"]],
        compatibility="linux",
        mode="repair",
        libs_dir="x",
        lib_dirs=[native["libdir"]],
    )
    assert decision.platform_tags == ("linux_x86_64",)
    decision = decide_platform(
        [native["withpy"]],
        compatibility=None,
        mode="skip",
        libs_dir="x",
        lib_dirs=[native["libdir"]],
    )
    assert decision.platform_tags == ("linux_x86_64",)


def test_blacklisted_symbols_block_old_policies(native: Dict[str, Path]) -> None:
    elf = read_elf(native["blacklisted"])
    analysis = analyze_members({str(native["blacklisted"]): elf})
    reasons = " ".join(analysis.policy("manylinux_2_17").reasons())
    assert "blacklisted symbols __cxa_thread_atexit_impl" in reasons
    assert not analysis.policy("manylinux_2_24").blacklisted
    assert analysis.best().name == "manylinux_2_24"


def test_binaries_for_another_architecture_are_refused(native: Dict[str, Path]) -> None:
    with pytest.raises(AuditError, match="aarch64"):
        decide_platform(
            [native["other_arch"]],
            compatibility=None,
            mode="check",
            libs_dir="x",
            platform_tag="linux_x86_64",
        )
    with pytest.raises(AuditError, match="one wheel holds binaries for one architecture"):
        decide_platform(
            [native["tinyext"], native["other_arch"]],
            compatibility=None,
            mode="check",
            libs_dir="x",
        )


def test_apply_repair_rewrites_needed_rpath_and_soname(
    native: Dict[str, Path], tmp_path: Path
) -> None:
    decision = decide_platform(
        [native["tinyext"]],
        compatibility="manylinux_2_17",
        mode="repair",
        libs_dir="tinyext.libs",
        lib_dirs=[native["libdir"]],
    )
    (graft,) = decision.grafts
    arcname = f"tinyext/{native['tinyext'].name}"
    before = native["tinyext"].read_bytes()
    files = apply_repair(decision, {arcname: native["tinyext"]}, workdir=tmp_path)
    assert sorted(files) == sorted([arcname, graft.arcname])
    assert native["tinyext"].read_bytes() == before  # the original is never touched
    patched = read_elf(files[arcname])
    assert graft.soname in patched.needed and "libtinymath.so.1" not in patched.needed
    assert patched.rpath == ("$ORIGIN/../tinyext.libs", "$ORIGIN/../nowhere")
    assert read_elf(files[graft.arcname]).soname == graft.soname


def test_ld_so_conf_includes_are_followed(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("/opt/a/lib  # comment\n\n")
    (tmp_path / "conf.d" / "b.conf").write_text("include ../more.conf\n/opt/b/lib\n")
    (tmp_path / "more.conf").write_text("/opt/more\n")
    main = tmp_path / "ld.so.conf"
    main.write_text("# top\n/usr/local/lib\ninclude conf.d/*.conf\n")
    assert parse_ld_so_conf(str(main)) == [
        "/usr/local/lib",
        "/opt/a/lib",
        "/opt/more",
        "/opt/b/lib",
    ]


def test_zig_build_command_rewrites_the_target() -> None:
    if shutil.which("cargo-zigbuild") is None:
        pytest.skip("cargo-zigbuild is not installed")
    cmd, env = zig_build_command(
        ["cargo", "rustc", "--lib", "--target", "x86_64-unknown-linux-gnu"], glibc="2.28"
    )
    assert Path(cmd[0]).name == "cargo-zigbuild"
    assert cmd[1:] == ["rustc", "--target", "x86_64-unknown-linux-gnu.2.28", "--lib"]
    assert isinstance(env, dict)


def _tinyext_wheel(native: Dict[str, Path], out: Path) -> Path:
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    writer = WheelWriter(out, "tinyext", "1.0", [f"{tag}-{tag}-linux_x86_64"])
    writer.add_file(native["tinyext"].name, native["tinyext"])
    writer.add_dist_info("METADATA", "Metadata-Version: 2.1\nName: tinyext\nVersion: 1.0\n")
    return writer.finish()


def test_repaired_wheel_imports_without_the_original_library(
    native: Dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _tinyext_wheel(native, tmp_path / "dist")
    assert analyze_wheel(wheel).tag == "linux_x86_64"  # libtinymath is external
    monkeypatch.setenv("LD_LIBRARY_PATH", str(native["libdir"]))
    repaired = repair_wheel(wheel, tmp_path / "wheelhouse")
    assert repaired.name == "tinyext-1.0-" + wheel.name.split("-", 2)[2].replace(
        "linux_x86_64", "manylinux_2_5_x86_64.manylinux1_x86_64"
    )
    contents = read_wheel(repaired)  # RECORD rewritten and verified
    libs = [n for n in contents.files if n.startswith("tinyext.libs/libtinymath-")]
    assert len(libs) == 1
    monkeypatch.delenv("LD_LIBRARY_PATH")
    assert analyze_wheel(repaired).tag == "manylinux_2_5_x86_64"

    # Move the original library out of reach, then import from a fresh venv.
    hidden = native["libdir"].with_name("lib-hidden")
    native["libdir"].rename(hidden)
    try:
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "-q",
                "--no-index",
                "--disable-pip-version-check",
                str(repaired),
            ],
            check=True,
        )
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        run = subprocess.run(
            [str(python), "-c", "import tinyext; print(tinyext.add(2, 40))"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == "42"
        # and the unrepaired wheel really could not have worked there
        bare = tmp_path / "bare"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(bare / "bin" / "python"),
                "install",
                "-q",
                "--no-index",
                "--disable-pip-version-check",
                str(wheel),
            ],
            check=True,
        )
        failed = subprocess.run(
            [str(bare / "bin" / "python"), "-c", "import tinyext"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert failed.returncode != 0 and "libtinymath.so.1" in failed.stderr
    finally:
        hidden.rename(native["libdir"])
