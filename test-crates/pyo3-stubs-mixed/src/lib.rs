//! The native half of pyo3-stubs-mixed: a declarative module whose `#[pymodule_init]`
//! adds a member at run time, so pyo3 marks its introspection data incomplete.

use pyo3::prelude::*;

/// Counting items on shelves.
#[pymodule]
mod _native {
    use pyo3::prelude::*;
    use std::collections::HashMap;

    /// Items and how many of each are on the shelf.
    #[pyclass]
    pub struct Shelf {
        counts: HashMap<String, u64>,
        #[pyo3(get)]
        label: String,
    }

    #[pymethods]
    impl Shelf {
        #[new]
        #[pyo3(signature = (label, *, items = None))]
        fn new(label: String, items: Option<Vec<String>>) -> Self {
            let mut counts = HashMap::new();
            for item in items.unwrap_or_default() {
                *counts.entry(item).or_insert(0) += 1;
            }
            Self { counts, label }
        }

        /// Put `count` more of `item` on the shelf; returns the new count.
        #[pyo3(signature = (item, count = 1))]
        fn add(&mut self, item: &str, count: u64) -> u64 {
            let entry = self.counts.entry(item.to_owned()).or_insert(0);
            *entry += count;
            *entry
        }

        fn count(&self, item: &str) -> u64 {
            self.counts.get(item).copied().unwrap_or(0)
        }

        fn items(&self) -> HashMap<String, u64> {
            self.counts.clone()
        }

        fn __len__(&self) -> usize {
            self.counts.values().sum::<u64>() as usize
        }
    }

    /// Add one of each item to every shelf.
    #[pyfunction]
    fn restock(shelves: Vec<Bound<'_, Shelf>>, items: Vec<String>) {
        for shelf in shelves {
            let mut shelf = shelf.borrow_mut();
            for item in &items {
                shelf.add(item, 1);
            }
        }
    }

    /// All items on all the shelves.
    #[pyfunction]
    fn total_count(shelves: Vec<PyRef<'_, Shelf>>) -> u64 {
        shelves.iter().map(|s| s.counts.values().sum::<u64>()).sum()
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("BUILT_WITH", "pyo3")
    }
}
