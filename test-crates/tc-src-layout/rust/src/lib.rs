//! The native half of a src-layout project.
use pyo3::prelude::*;

/// Multiply two integers.
#[pyfunction]
fn times(a: i64, b: i64) -> i64 {
    a * b
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(times, m)?)?;
    Ok(())
}
