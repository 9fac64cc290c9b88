//! A module built with the (legacy) rust-cpython bindings.
use cpython::{py_fn, py_module_initializer, PyResult, Python};

/// Add two integers.
fn sum(_py: Python, a: i64, b: i64) -> PyResult<i64> {
    Ok(a + b)
}

/// Repeat a string n times.
fn repeat(_py: Python, s: String, n: usize) -> PyResult<String> {
    Ok(s.repeat(n))
}

py_module_initializer!(rust_cpython, |py, m| {
    m.add(py, "__doc__", "A module built with the rust-cpython bindings.")?;
    m.add(py, "sum", py_fn!(py, sum(a: i64, b: i64)))?;
    m.add(py, "repeat", py_fn!(py, repeat(s: String, n: usize)))?;
    Ok(())
});
