//! A path dependency with a build script.
pub fn answer() -> u32 {
    42
}
