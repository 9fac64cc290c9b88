//! The extension of the workspace: built without pyo3's abi3 feature, which only a sibling
//! member asks for, so its wheel is version-specific.
use pyo3::prelude::*;

/// Add one.
#[pyfunction]
fn inc(x: i64) -> i64 {
    x + 1
}

#[pymodule]
#[pyo3(name = "_ext")]
fn ext(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(inc, m)?)?;
    Ok(())
}
