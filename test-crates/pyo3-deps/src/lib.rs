//! Parse log records from JSON with serde and pick fields out of them with a regex.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// One log record, as the JSON input spells it.
#[derive(Deserialize, Serialize)]
struct Record {
    level: String,
    message: String,
}

/// The messages of the records at `level`, with every run of digits replaced by `#`.
#[pyfunction]
fn messages_at(json: &str, level: &str) -> PyResult<Vec<String>> {
    let records: Vec<Record> =
        serde_json::from_str(json).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let digits = Regex::new(r"\d+").expect("a valid pattern");
    Ok(records
        .into_iter()
        .filter(|r| r.level == level)
        .map(|r| digits.replace_all(&r.message, "#").into_owned())
        .collect())
}

/// A record back as compact JSON.
#[pyfunction]
fn record_json(level: String, message: String) -> PyResult<String> {
    serde_json::to_string(&Record { level, message })
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymodule]
fn pyo3_deps(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(messages_at, m)?)?;
    m.add_function(wrap_pyfunction!(record_json, m)?)?;
    Ok(())
}
