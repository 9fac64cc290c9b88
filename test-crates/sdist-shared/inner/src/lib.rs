//! The innermost crate of the path-dependency chain.

/// `n` times `k`.
pub fn times(n: i64, k: i64) -> i64 {
    n * k
}
