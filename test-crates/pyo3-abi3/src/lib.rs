//! A pyo3 module built against the stable ABI (abi3, Python 3.8+).
use pyo3::prelude::*;

/// Multiply two floats.
#[pyfunction]
fn mul(a: f64, b: f64) -> f64 {
    a * b
}

/// Reverse a string by characters.
#[pyfunction]
fn reverse(s: &str) -> String {
    s.chars().rev().collect()
}

#[pymodule]
fn pyo3_abi3(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mul, m)?)?;
    m.add_function(wrap_pyfunction!(reverse, m)?)?;
    Ok(())
}
