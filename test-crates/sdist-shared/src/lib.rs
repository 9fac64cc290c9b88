//! Plain Rust logic that lives outside the Python project's folder.

/// Three times `n`, computed by the nested crate.
pub fn triple(n: i64) -> i64 {
    sdist_shared_inner::times(n, 3)
}
