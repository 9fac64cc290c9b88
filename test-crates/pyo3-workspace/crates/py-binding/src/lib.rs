//! Python binding for the workspace's core-lib crate.
use pyo3::prelude::*;

/// Return the n-th Fibonacci number, computed by core-lib.
#[pyfunction]
fn fibonacci(n: u32) -> u64 {
    core_lib::fibonacci(n)
}

#[pymodule]
fn pyo3_workspace(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fibonacci, m)?)?;
    m.add("CRATE_VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
