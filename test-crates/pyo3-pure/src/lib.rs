//! A tiny pyo3 module laid out as a single top-level extension (pure Rust layout).
use pyo3::prelude::*;

/// Add two integers.
#[pyfunction]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// A class with a static method, to check class export.
#[pyclass]
struct DummyClass;

#[pymethods]
impl DummyClass {
    #[staticmethod]
    fn get_42() -> i64 {
        42
    }
}

#[pymodule]
fn pyo3_pure(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add, m)?)?;
    m.add_class::<DummyClass>()?;
    m.add("GREETING", "hello from pyo3_pure")?;
    Ok(())
}
