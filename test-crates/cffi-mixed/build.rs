//! Publish `header.h` as `<cargo target dir>/header.h`, where maturin looks for a
//! ready-made cffi header before falling back to its bundled cbindgen. Tools
//! without cbindgen rely on this file.
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Find the cargo target directory: the nearest ancestor of OUT_DIR holding CACHEDIR.TAG.
fn target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        // a target dir made before cargo ran has no tag: OUT_DIR is <target>/<profile>/build/<pkg>/out
        .unwrap_or_else(|| out_dir.ancestors().nth(4).expect("OUT_DIR is inside a target dir").to_path_buf())
}

fn main() {
    let source = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("header.h");
    let dest = target_dir(Path::new(&env::var("OUT_DIR").unwrap())).join("header.h");
    fs::copy(&source, &dest).expect("failed to copy header.h into the cargo target directory");
    println!("cargo:rerun-if-changed=header.h");
    // Another cffi crate sharing this target dir may overwrite the header: watching
    // the copy makes cargo rerun this script (and restore it) whenever that happens.
    println!("cargo:rerun-if-changed={}", dest.display());
}
