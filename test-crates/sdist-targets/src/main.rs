//! The binary the wheel installs as the `sdist-targets` script.

fn main() {
    println!("sdist-targets {}", env!("CARGO_PKG_VERSION"));
}
