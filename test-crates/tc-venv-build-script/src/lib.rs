//! Exposes what the build script read from the build venv.
use pyo3::prelude::*;

include!(concat!(env!("OUT_DIR"), "/marker.rs"));

/// The value tc_venv_marker had in the build's venv.
#[pyfunction]
fn marker() -> &'static str {
    MARKER
}

#[pymodule]
fn tc_venv_build_script(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(marker, m)?)?;
    Ok(())
}
