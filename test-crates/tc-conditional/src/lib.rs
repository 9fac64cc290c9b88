//! Reports which cargo features the build for this interpreter had.
use pyo3::prelude::*;

/// "modern" for Python >= 3.10, "legacy" below (tool.maturin.features tables).
#[pyfunction]
fn flavour() -> &'static str {
    if cfg!(feature = "modern") {
        "modern"
    } else if cfg!(feature = "legacy") {
        "legacy"
    } else {
        "none"
    }
}

/// The plain feature is on for every interpreter.
#[pyfunction]
fn plain() -> bool {
    cfg!(feature = "plain")
}

#[pymodule]
fn tc_conditional(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(flavour, m)?)?;
    m.add_function(wrap_pyfunction!(plain, m)?)?;
    Ok(())
}
