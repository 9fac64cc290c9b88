//! Geometry helpers whose `.pyi` stubs are generated from pyo3's introspection data
//! (`experimental-inspect`): a declarative module with constants, functions of every
//! parameter kind, a class with methods and properties, an enum and a submodule.

use pyo3::prelude::*;

/// Small geometry helpers written in Rust.
#[pymodule]
mod pyo3_stubs_pure {
    use pyo3::prelude::*;
    use pyo3::types::{PyDict, PyTuple, PyType};

    /// How many sides a triangle has.
    #[pymodule_export]
    pub const TRIANGLE_SIDES: u32 = 3;

    #[pymodule_export]
    pub const UNIT: &str = "cm";

    /// Add two integers; the second one defaults to 1.
    #[pyfunction]
    #[pyo3(signature = (a, b = 1))]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    /// Count the positional arguments and join the keyword names.
    #[pyfunction]
    #[pyo3(signature = (label, /, *values, sep = ",", **options))]
    fn describe(
        label: &str,
        values: &Bound<'_, PyTuple>,
        sep: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let mut keys: Vec<String> = Vec::new();
        if let Some(options) = options {
            for key in options.keys() {
                keys.push(key.extract()?);
            }
        }
        keys.sort();
        Ok(format!("{label}:{}:{}", values.len(), keys.join(sep)))
    }

    /// The perimeter of a polygon with sides of the given lengths, if there are any.
    #[pyfunction]
    fn perimeter(sides: Vec<f64>) -> Option<f64> {
        if sides.is_empty() {
            None
        } else {
            Some(sides.iter().sum())
        }
    }

    /// An axis-aligned rectangle.
    #[pyclass]
    struct Rect {
        #[pyo3(get, set)]
        width: u32,
        #[pyo3(get)]
        height: u32,
    }

    #[pymethods]
    impl Rect {
        #[classattr]
        const CORNERS: u32 = 4;

        #[new]
        fn new(width: u32, height: u32) -> Self {
            Self { width, height }
        }

        /// The area, in square units.
        fn area(&self) -> u32 {
            self.width * self.height
        }

        /// A square with the given side.
        #[staticmethod]
        fn square(side: u32) -> Self {
            Self::new(side, side)
        }

        #[classmethod]
        fn unit(_cls: &Bound<'_, PyType>) -> Self {
            Self::new(1, 1)
        }

        fn scaled(&self, factor: f64) -> (f64, f64) {
            (f64::from(self.width) * factor, f64::from(self.height) * factor)
        }

        fn __repr__(&self) -> String {
            format!("Rect({}, {})", self.width, self.height)
        }
    }

    /// Colours a shape can have.
    #[pyclass(eq, eq_int)]
    #[derive(Clone, PartialEq)]
    enum Colour {
        Red,
        Blue,
    }

    /// Conversions between units.
    #[pymodule]
    mod units {
        use pyo3::prelude::*;

        #[pymodule_export]
        pub const CM_PER_INCH: f64 = 2.54;

        /// Centimetres to inches.
        #[pyfunction]
        fn to_inches(cm: f64) -> f64 {
            cm / CM_PER_INCH
        }
    }
}
