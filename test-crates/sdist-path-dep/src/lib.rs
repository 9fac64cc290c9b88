//! A pyo3 module whose logic comes from a path dependency outside the project folder.
use pyo3::prelude::*;

/// Three times `n`, from the `sdist-shared` path dependency.
#[pyfunction]
fn triple(n: i64) -> i64 {
    sdist_shared::triple(n)
}

#[pymodule]
fn sdist_path_dep(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(triple, m)?)?;
    Ok(())
}
