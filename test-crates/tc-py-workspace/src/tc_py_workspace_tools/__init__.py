"""A second top-level package (tool.maturin.python-packages), also from src/."""

NAME = "tools"
