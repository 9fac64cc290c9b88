//! Plain Rust logic with no Python in sight, shared through the workspace.

/// Return the n-th Fibonacci number (fib(0) = 0).
pub fn fibonacci(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let next = a + b;
        a = b;
        b = next;
    }
    a
}
