"""A pure Python subpackage, to check nested packages are packed."""
