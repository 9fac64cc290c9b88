//! An integration test that stays out of the sdist.

#[test]
fn version_is_set() {
    assert!(!env!("CARGO_PKG_VERSION").is_empty());
}
