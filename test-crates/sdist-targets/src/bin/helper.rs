//! A second binary that stays out of the sdist (`tool.maturin.exclude`).

fn main() {
    println!("helper {}", env!("CARGO_PKG_VERSION"));
}
