//! Link the system SQLite library: a shared library outside every manylinux policy,
//! so the audit copies it into the wheel (and records where it came from).
fn main() {
    println!("cargo:rustc-link-lib=dylib=sqlite3");
    println!("cargo:rerun-if-changed=build.rs");
}
