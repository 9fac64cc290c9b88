raise ImportError("excluded_module.py must not be in the wheel")
