//! A module built on raw `pyo3-ffi` bindings: no pyo3 macros, just the C API.
use pyo3_ffi::*;
use std::ptr;

/// Read argument `index` of a positional-args tuple as an i64 (None with a Python error set on failure).
unsafe fn arg_as_i64(args: *mut PyObject, index: Py_ssize_t) -> Option<i64> {
    let value = PyLong_AsLongLong(PyTuple_GetItem(args, index));
    if value == -1 && !PyErr_Occurred().is_null() {
        return None;
    }
    Some(value)
}

/// `sum(a, b)`: add two integers, raising OverflowError past i64.
unsafe extern "C" fn sum(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    if PyTuple_Size(args) != 2 {
        PyErr_SetString(PyExc_TypeError, c"sum() takes exactly 2 arguments".as_ptr());
        return ptr::null_mut();
    }
    let (Some(a), Some(b)) = (arg_as_i64(args, 0), arg_as_i64(args, 1)) else {
        return ptr::null_mut();
    };
    match a.checked_add(b) {
        Some(total) => PyLong_FromLongLong(total),
        None => {
            PyErr_SetString(PyExc_OverflowError, c"sum() overflowed a 64-bit integer".as_ptr());
            ptr::null_mut()
        }
    }
}

#[allow(non_snake_case)]
#[no_mangle]
pub unsafe extern "C" fn PyInit_pyo3_ffi_pure() -> *mut PyObject {
    // CPython keeps pointers to both tables for the module's lifetime: leak them.
    let methods = Box::leak(Box::new([
        PyMethodDef {
            ml_name: c"sum".as_ptr(),
            ml_meth: PyMethodDefPointer { PyCFunction: sum },
            ml_flags: METH_VARARGS,
            ml_doc: c"Add two integers.".as_ptr(),
        },
        PyMethodDef::zeroed(),
    ]));
    let def = Box::leak(Box::new(PyModuleDef {
        m_base: PyModuleDef_HEAD_INIT,
        m_name: c"pyo3_ffi_pure".as_ptr(),
        m_doc: c"A module written against the raw pyo3-ffi C API.".as_ptr(),
        m_size: 0,
        m_methods: methods.as_mut_ptr(),
        m_slots: ptr::null_mut(),
        m_traverse: None,
        m_clear: None,
        m_free: None,
    }));
    PyModule_Create(def)
}
