//! Asks the linked SQLite library for its version.
use std::ffi::{c_char, c_int, CStr};

use pyo3::prelude::*;

extern "C" {
    fn sqlite3_libversion_number() -> c_int;
    fn sqlite3_libversion() -> *const c_char;
}

/// SQLite's version as a number (3041002 for 3.41.2).
#[pyfunction]
fn sqlite_version_number() -> i32 {
    unsafe { sqlite3_libversion_number() }
}

/// SQLite's version as text.
#[pyfunction]
fn sqlite_version() -> String {
    unsafe { CStr::from_ptr(sqlite3_libversion()) }
        .to_string_lossy()
        .into_owned()
}

#[pymodule]
fn tc_sbom_graft(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sqlite_version_number, m)?)?;
    m.add_function(wrap_pyfunction!(sqlite_version, m)?)?;
    Ok(())
}
