//! A bench without the test harness (`cargo bench --bench dropped_bench`).

fn main() {
    println!("dropped_bench");
}
