//! The extension: knows the helper's answer.
use pyo3::prelude::*;

/// The helper crate's number.
#[pyfunction]
fn answer() -> u32 {
    tc_out_dir_helper::answer()
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(answer, m)?)?;
    Ok(())
}
