//! uniffi proc-macro bindings: functions, a record, an enum, an object and an error.

use std::sync::Mutex;

uniffi::setup_scaffolding!();

#[uniffi::export]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[uniffi::export]
fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

#[derive(uniffi::Record)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[uniffi::export]
fn midpoint(a: Point, b: Point) -> Point {
    Point { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 }
}

#[derive(Debug, uniffi::Error)]
pub enum MathError {
    DivisionByZero,
}

impl std::fmt::Display for MathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("division by zero")
    }
}

#[uniffi::export]
fn divide(a: i64, b: i64) -> Result<i64, MathError> {
    if b == 0 {
        Err(MathError::DivisionByZero)
    } else {
        Ok(a / b)
    }
}

#[derive(uniffi::Object)]
pub struct Counter {
    value: Mutex<u64>,
}

#[uniffi::export]
impl Counter {
    #[uniffi::constructor]
    fn new(start: u64) -> Self {
        Counter { value: Mutex::new(start) }
    }

    fn increment(&self) -> u64 {
        let mut value = self.value.lock().unwrap();
        *value += 1;
        *value
    }
}
