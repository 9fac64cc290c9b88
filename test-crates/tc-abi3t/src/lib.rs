//! A module for the stable ABI: abi3 wheels for CPython 3.9 to 3.14, abi3t from 3.15.
use pyo3::prelude::*;

#[pymodule(gil_used = false)]
mod tc_abi3t {
    use pyo3::prelude::*;

    /// Concatenate two strings.
    #[pyfunction]
    fn join(a: &str, b: &str) -> String {
        format!("{a}{b}")
    }
}
