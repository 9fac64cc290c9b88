//! Compile csrc/tinymath.c into `$OUT_DIR/libtinymath.so` and link the extension to it
//! dynamically, so the built module has a DT_NEEDED entry that audit/repair must graft.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let library = out_dir.join("libtinymath.so");
    // cc finds the C compiler (honouring CC and the target); the shared link is done by hand
    // because cc only produces static archives.
    let compiler = cc::Build::new().get_compiler();
    let status = Command::new(compiler.path())
        .args(["-shared", "-fPIC", "-O2", "-Wl,-soname,libtinymath.so", "-Icsrc", "-o"])
        .arg(&library)
        .arg("csrc/tinymath.c")
        .status()
        .expect("failed to run the C compiler");
    assert!(status.success(), "compiling csrc/tinymath.c into libtinymath.so failed");

    println!("cargo:rerun-if-changed=csrc/tinymath.c");
    println!("cargo:rerun-if-changed=csrc/tinymath.h");
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rustc-link-lib=dylib=tinymath");
}
