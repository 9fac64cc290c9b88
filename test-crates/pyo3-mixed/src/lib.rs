//! The native half of the pyo3_mixed package, importable as `pyo3_mixed._native`.
use pyo3::prelude::*;

/// Return 21; the Python half doubles it.
#[pyfunction]
fn get_21() -> usize {
    21
}

/// Format the sum of two numbers as a string.
#[pyfunction]
fn sum_as_string(a: usize, b: usize) -> String {
    (a + b).to_string()
}

#[pymodule]
#[pyo3(name = "_native")]
fn pyo3_mixed(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(get_21, m)?)?;
    m.add_function(wrap_pyfunction!(sum_as_string, m)?)?;
    Ok(())
}
