//! Shared by the binary and the embedding member; pyo3 only behind the `python` feature.

/// The line the tool prints.
pub fn banner() -> &'static str {
    "tc-tool says hello"
}

/// Only with the `python` feature (which the tool never turns on).
#[cfg(feature = "python")]
pub fn python_version() -> String {
    pyo3::Python::with_gil(|py| py.version().to_string())
}
