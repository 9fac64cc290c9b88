//! A pyo3 module whose arithmetic goes through the C library libtinymath.so.
use pyo3::prelude::*;
use std::ffi::CStr;
use std::os::raw::{c_char, c_long};

extern "C" {
    fn tinymath_add(a: c_long, b: c_long) -> c_long;
    fn tinymath_mul(a: c_long, b: c_long) -> c_long;
    fn tinymath_version() -> *const c_char;
}

/// Return a*a + b*b, computed by libtinymath.
#[pyfunction]
fn sum_of_squares(a: i64, b: i64) -> i64 {
    unsafe { tinymath_add(tinymath_mul(a, a), tinymath_mul(b, b)) }
}

/// Return the version string reported by libtinymath.
#[pyfunction]
fn c_library_version() -> String {
    unsafe { CStr::from_ptr(tinymath_version()) }.to_string_lossy().into_owned()
}

#[pymodule]
fn linked_lib(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sum_of_squares, m)?)?;
    m.add_function(wrap_pyfunction!(c_library_version, m)?)?;
    Ok(())
}
