//! Give the binary an RPATH to the build interpreter's libpython, so it runs
//! without LD_LIBRARY_PATH (pyenv installs libpython outside the loader's path).
fn main() {
    let config = pyo3_build_config::get();
    if let Some(lib_dir) = &config.lib_dir {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{lib_dir}");
    }
}
