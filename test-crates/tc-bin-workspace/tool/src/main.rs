//! The binary the wheel ships.
fn main() {
    println!("{}", tc_bin_workspace_shared::banner());
}
