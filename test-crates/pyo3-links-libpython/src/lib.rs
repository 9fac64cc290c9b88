//! A pyo3 module linked to libpython (no `extension-module` feature): an audited build must
//! refuse it, as maturin does; `--compatibility linux` skips the audit and builds it.
use pyo3::prelude::*;

/// Twice the number.
#[pyfunction]
fn double(x: i64) -> i64 {
    2 * x
}

#[pymodule]
fn pyo3_links_libpython(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(double, m)?)
}
