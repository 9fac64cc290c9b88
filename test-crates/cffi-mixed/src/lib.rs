//! `extern "C"` functions wrapped by the pure Python `cffi_mixed` package.

/// Multiply two doubles.
#[no_mangle]
pub extern "C" fn cffi_mixed_mul(a: f64, b: f64) -> f64 {
    a * b
}

/// Count the bytes of a NUL-terminated string (0 for NULL).
///
/// # Safety
/// `s` must be NULL or point to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn cffi_mixed_strlen(s: *const std::os::raw::c_char) -> usize {
    if s.is_null() {
        return 0;
    }
    std::ffi::CStr::from_ptr(s).to_bytes().len()
}
