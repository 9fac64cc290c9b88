//! Not part of the wheel.
pub use tc_bin_workspace_shared::python_version;
