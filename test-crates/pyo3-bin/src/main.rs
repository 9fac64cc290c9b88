//! Embeds the Python interpreter and calls the `pyo3_bin` package shipped in the same wheel.
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::env;
use std::path::PathBuf;
use std::process::ExitCode;

/// Return the virtual environment the binary is installed in: `<env>/bin/pyo3-bin` with `<env>/pyvenv.cfg`.
fn enclosing_venv() -> Option<PathBuf> {
    let exe = env::current_exe().ok()?;
    let root = exe.parent()?.parent()?.to_path_buf();
    root.join("pyvenv.cfg").is_file().then_some(root)
}

/// Put the enclosing venv's site-packages on sys.path.
///
/// An embedded interpreter computes its prefix from the base installation, not
/// from this binary, so it would not see packages installed next to it.
fn add_venv_site_packages(py: Python<'_>, root: PathBuf) -> PyResult<()> {
    let vars = PyDict::new(py);
    vars.set_item("base", &root)?;
    vars.set_item("platbase", &root)?;
    let sysconfig = py.import("sysconfig")?;
    let site = py.import("site")?;
    for key in ["purelib", "platlib"] {
        let kwargs = PyDict::new(py);
        kwargs.set_item("vars", &vars)?;
        let path = sysconfig.call_method("get_path", (key,), Some(&kwargs))?;
        site.call_method1("addsitedir", (path,))?;
    }
    Ok(())
}

fn run() -> PyResult<String> {
    Python::with_gil(|py| {
        if let Some(root) = enclosing_venv() {
            add_venv_site_packages(py, root)?;
        }
        let package = py.import("pyo3_bin")?;
        let greeting: String = package.call_method1("greet", ("pyo3-bin",))?.extract()?;
        let version: String = py.import("platform")?.call_method0("python_version")?.extract()?;
        Ok(format!("{greeting} (embedded Python {version})"))
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("pyo3-bin: {err}");
            ExitCode::FAILURE
        }
    }
}
