//! Run PYO3_PYTHON and import a module only the build's virtual environment has: this works
//! only when PYO3_PYTHON is the venv's own interpreter, not the file it links to.
use std::{env, fs, path::PathBuf, process::Command};

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    let python = env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .args(["-c", "import tc_venv_marker; print(tc_venv_marker.VALUE)"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    if !out.status.success() {
        panic!(
            "{python} cannot import tc_venv_marker (build with the venv that has it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let value = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("marker.rs");
    fs::write(dest, format!("pub const MARKER: &str = {value:?};\n")).unwrap();
}
