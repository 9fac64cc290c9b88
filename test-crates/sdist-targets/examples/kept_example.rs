//! An example (`cargo run --example kept_example`).

fn main() {
    println!("kept_example");
}
