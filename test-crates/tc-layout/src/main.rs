fn main() {
    println!("tc-layout {}", env!("CARGO_PKG_VERSION"));
}
