//! Plain `extern "C"` functions that cffi loads with `ffi.dlopen`.

/// A point in the plane, passed by value across the C ABI.
#[repr(C)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// Add two 32-bit integers, wrapping on overflow.
#[no_mangle]
pub extern "C" fn cffi_pure_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

/// Return the origin.
#[no_mangle]
pub extern "C" fn cffi_pure_origin() -> Point {
    Point { x: 0.0, y: 0.0 }
}

/// Return the Euclidean norm of a point.
#[no_mangle]
pub extern "C" fn cffi_pure_norm(p: Point) -> f64 {
    p.x.hypot(p.y)
}
