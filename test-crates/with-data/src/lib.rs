//! Native half of `with_data`: counts `key=value` lines.
use pyo3::prelude::*;

/// Count the `key=value` lines of a text.
#[pyfunction]
fn count_pairs(text: &str) -> usize {
    text.lines().filter(|line| line.contains('=')).count()
}

#[pymodule]
fn with_data(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(count_pairs, m)?)?;
    Ok(())
}
