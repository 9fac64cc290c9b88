//! The dependency's own build script: its OUT_DIR is named with crate_name in the include.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(out.join("helper.txt"), "written by the helper's build.rs\n").unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
