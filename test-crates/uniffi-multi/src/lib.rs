//! The library: its functions take the `units` crate's record, so the wheel needs both modules.

use units::Length;

uniffi::setup_scaffolding!();

#[uniffi::export]
fn total(lengths: Vec<Length>) -> Length {
    Length { metres: lengths.iter().map(|l| l.metres).sum() }
}

#[uniffi::export]
fn describe(length: Length) -> String {
    format!("{:.2} m", length.metres)
}
