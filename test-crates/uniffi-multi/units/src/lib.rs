//! A length type with its own uniffi scaffolding, so its bindings get a module of their own.

uniffi::setup_scaffolding!();

#[derive(uniffi::Record)]
pub struct Length {
    pub metres: f64,
}

#[uniffi::export]
fn centimetres(value: f64) -> Length {
    Length { metres: value / 100.0 }
}
