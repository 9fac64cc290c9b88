//! An example (`cargo run --example dropped_example`).

fn main() {
    println!("dropped_example");
}
