//! A plain binary: the wheel installs it as the `hello-bin` script.
use std::env;

fn main() {
    println!("Hello from hello-bin {}!", env!("CARGO_PKG_VERSION"));
    let args: Vec<String> = env::args().skip(1).collect();
    if !args.is_empty() {
        println!("args: {}", args.join(" "));
    }
}
