//! A library only the workspace has; it is not part of the wheel.
pub fn answer() -> u32 {
    42
}
