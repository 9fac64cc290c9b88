//! A second binary that [[tool.maturin.targets]] leaves out of the wheel.
fn main() {
    println!("tc-extra must not be installed");
}
