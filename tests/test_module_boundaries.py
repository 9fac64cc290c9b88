"""The engine's modules talk to each other through public names only.

A name another module needs is public (no leading underscore, and in its
module's ``__all__``); a ``_private`` name is used only inside its own module.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / "maturin_nox"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute module a `from ... import` names."""
    if level == 0:
        return module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *(module.split(".") if module else [])])


def _modules() -> Dict[str, Tuple[Path, ast.Module]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        out[_module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return out


def _exported(tree: ast.Module) -> Set[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)}  # type: ignore[attr-defined]
    return set()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_a_private_name_of_another() -> None:
    modules = _modules()
    problems: List[str] = []
    for name, (path, tree) in modules.items():
        is_package = path.name == "__init__.py"
        imported_modules: Dict[str, str] = {}  # local alias -> our module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(name, is_package, node.level, node.module)
                if not source.startswith("maturin_nox"):
                    continue
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    if target in modules:
                        imported_modules[alias.asname or alias.name] = target
                    elif _private(alias.name):
                        problems.append(f"{path.name}: imports {alias.name} from {source}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("maturin_nox") and alias.name in modules:
                        imported_modules[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules
                and _private(node.attr)
            ):
                problems.append(f"{path.name}: uses {imported_modules[node.value.id]}.{node.attr}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_names_imported_across_modules_are_exported() -> None:
    modules = _modules()
    problems: List[str] = []
    for name, (path, tree) in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _resolve(name, is_package, node.level, node.module)
            if source not in modules or source == name:
                continue
            exported = _exported(modules[source][1])
            for alias in node.names:
                if f"{source}.{alias.name}" in modules or _private(alias.name):
                    continue  # a submodule; private names are the other test's
                if alias.name not in exported:
                    problems.append(f"{path.name}: imports {alias.name}, not in {source}.__all__")
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_two_distributions_have_one_version() -> None:
    """maturin-nox (full/) pins maturin-nox-core (the root) at the package's own version."""
    import re

    import maturin_nox

    root = PACKAGE.parent
    core = (root / "pyproject.toml").read_text()
    full = (root / "full" / "pyproject.toml").read_text()
    version = maturin_nox.__version__
    assert re.search(rf'^name = "maturin-nox-core"\nversion = "{re.escape(version)}"$', core, re.M)
    assert re.search(rf'^name = "maturin-nox"\nversion = "{re.escape(version)}"$', full, re.M)
    assert f'"maturin-nox-core=={version}"' in full
    assert 'requires = ["maturin-nox-core"]' in (root / "maturin_nox" / "templates.py").read_text()
