"""Tests run against the installed pyo3-mixed wheel (never the source tree)."""

import os
import shutil
import subprocess
import sys

import pyo3_mixed


def test_native_and_python_halves_cooperate():
    assert pyo3_mixed.get_21() == 21
    assert pyo3_mixed.get_42() == 42
    assert pyo3_mixed.sum_as_string(40, 2) == "42"


def test_module_is_installed_not_source():
    assert "site-packages" in pyo3_mixed.__file__


def test_console_script_runs():
    script = shutil.which("pyo3-mixed-greet", path=os.path.dirname(sys.executable))
    assert script is not None
    out = subprocess.run([script], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "Hello, pyo3-mixed! 42"
