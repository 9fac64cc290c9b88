//! A bench without the test harness (`cargo bench --bench kept_bench`).

fn main() {
    println!("kept_bench");
}
