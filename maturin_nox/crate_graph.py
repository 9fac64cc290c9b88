"""The crate's own dependency graph, with features resolved for the crate alone.

``cargo metadata`` unifies features across a workspace: an optional pyo3 that
only a sibling member turns on, or pyo3's ``abi3`` feature that only a sibling
asks for, shows up in the resolve although ``cargo build -p <crate>`` never
builds it. maturin checks its bindings against ``cargo tree`` for that; here
the same answer comes from the metadata already loaded: cargo's feature rules
are applied again from the crate's own requested features, walking only the
edges of the resolve that the crate's build takes. No extra cargo call.

A single-crate project needs none of this: its resolve is already its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import (
    Any,
    Callable,
    DefaultDict,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

__all__ = [
    "Platform",
    "crate_dependencies",
    "interpreter_independent",
    "platform_applies",
    "platform_of",
    "reachable",
]

# a target triple, and its `rustc --print cfg` values
Platform = Tuple[str, FrozenSet[Tuple[str, Optional[str]]]]


def _host() -> Platform:
    from . import cargo

    return cargo.host_triple(), cargo.host_cfg()


def platform_of(triple: Optional[str]) -> Optional[Callable[[], Platform]]:
    """The platform a named target triple stands for (its cfg asked only when needed);
    None for the host."""
    if not triple:
        return None
    from . import cargo

    return lambda: (triple, cargo.target_cfg(triple))


def crate_dependencies(
    meta: Mapping[str, Any],
    root_id: str,
    *,
    features: Sequence[str] = (),
    all_features: bool = False,
    no_default_features: bool = False,
    platform: Optional[Callable[[], Platform]] = None,
) -> Dict[str, Tuple[str, ...]]:
    """Package name -> features of every package the crate's build reaches (itself included).

    Normal and build dependencies are followed everywhere, dev-dependencies of
    the crate itself, as ``cargo tree -e normal,build,dev`` (maturin's check) does.
    Several versions of one package have their features joined. ``platform``
    gives the triple and cfg values the metadata was filtered for (the host's by
    default), asked only when a declaration is platform-specific: it counts only
    where its cfg holds.
    """
    resolve = meta.get("resolve") or {}
    nodes = {str(n["id"]): n for n in resolve.get("nodes", [])}
    packages = {str(p["id"]): p for p in meta.get("packages", [])}
    if root_id not in nodes or root_id not in packages:
        return {}
    if len(meta.get("workspace_members", [])) <= 1:
        return _unified(nodes, packages, root_id, platform or _host)
    resolver = _Resolver(nodes, packages, root_id, platform or _host)
    root_table = packages[root_id].get("features", {}) or {}
    wanted = set(root_table) if all_features else set()
    wanted |= {f for item in features for f in item.replace(",", " ").split() if f}
    if not no_default_features:
        wanted.add("default")
    resolver.request(root_id, wanted)
    resolver.run()
    out: DefaultDict[str, Set[str]] = defaultdict(set)
    for pid in resolver.reached:
        out[str(packages[pid]["name"])] |= resolver.features[pid] & _declared(packages[pid])
    return {name: tuple(sorted(feats)) for name, feats in out.items()}


def reachable(
    nodes: Mapping[str, Any], root_id: str, follow: Callable[[str, Mapping[str, Any]], bool]
) -> Set[str]:
    """The package ids reached from ``root_id`` over the resolve's edges that ``follow``
    accepts (given the node's id and its ``deps`` entry); the root included."""
    seen: Set[str] = set()
    stack = [root_id]
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in nodes:
            continue
        seen.add(pid)
        stack += [str(dep["pkg"]) for dep in nodes[pid].get("deps", []) if follow(pid, dep)]
    return seen


# the crates whose build scripts read the target interpreter (PYO3_PYTHON, PYO3_CONFIG_FILE,
# PYTHON_SYS_EXECUTABLE): everything that depends on one is compiled per interpreter
INTERPRETER_CONFIG_CRATES = frozenset({"pyo3-build-config", "python3-sys", "python27-sys"})


def interpreter_independent(
    meta: Mapping[str, Any], root_id: str, platform: Optional[Callable[[], Platform]] = None
) -> FrozenSet[str]:
    """The package ids a build of the crate compiles the same for every interpreter.

    The packages over normal and build edges (dev-dependencies are not built for a
    library) that reach none of :data:`INTERPRETER_CONFIG_CRATES`; empty when none of
    those is built at all (then nothing is per interpreter). A guess about timing
    only: cargo's fingerprints still decide what a seeded configuration rebuilds.
    """
    resolve = meta.get("resolve") or {}
    nodes = {str(n["id"]): n for n in resolve.get("nodes", [])}
    packages = {str(p["id"]): p for p in meta.get("packages", [])}
    where = platform or _host

    def built(pid: str, dep: Mapping[str, Any]) -> bool:
        kinds = dep.get("dep_kinds") or [{}]
        return any(
            k.get("kind") != "dev"
            and (not k.get("target") or platform_applies(str(k["target"]), where()))
            for k in kinds
        )

    reached = reachable(nodes, root_id, built)
    users: DefaultDict[str, Set[str]] = defaultdict(set)
    for pid in reached:
        for dep in nodes[pid].get("deps", []):
            if built(pid, dep):
                users[str(dep["pkg"])].add(pid)
    config = {p for p in reached if packages.get(p, {}).get("name") in INTERPRETER_CONFIG_CRATES}
    if not config:
        return frozenset()
    dependent = set(config) | {root_id}
    stack = list(config)
    while stack:
        for user in users[stack.pop()]:
            if user not in dependent:
                dependent.add(user)
                stack.append(user)
    return frozenset(reached - dependent)


def _declared(package: Mapping[str, Any]) -> Set[str]:
    return set(package.get("features", {}) or {})


def _unified(
    nodes: Mapping[str, Any],
    packages: Mapping[str, Any],
    root_id: str,
    platform: Callable[[], Platform],
) -> Dict[str, Tuple[str, ...]]:
    """The resolve as cargo metadata gives it, from the root over every dependency kind.

    The metadata holds every platform's graph (it is read without ``--filter-platform``
    unless a target is named, as maturin reads it): an edge declared only for other
    platforms is not followed, as ``--filter-platform`` would leave it out.
    """

    def applies(pid: str, dep: Mapping[str, Any]) -> bool:
        kinds = dep.get("dep_kinds") or [{}]
        return any(
            not k.get("target") or platform_applies(str(k["target"]), platform()) for k in kinds
        )

    out: DefaultDict[str, Set[str]] = defaultdict(set)
    for pid in reachable(nodes, root_id, applies):
        out[str(packages[pid]["name"])] |= set(nodes[pid].get("features", []))
    return {name: tuple(sorted(feats)) for name, feats in out.items()}


class _Resolver:
    """cargo's feature rules (resolver 2, host and target joined) over the edges of one resolve."""

    def __init__(
        self,
        nodes: Mapping[str, Any],
        packages: Mapping[str, Any],
        root_id: str,
        platform: Callable[[], Platform],
    ) -> None:
        self.platform = platform  # asked only when a declaration is platform-specific
        self.nodes = nodes
        self.packages = packages
        self.root_id = root_id
        self.features: DefaultDict[str, Set[str]] = defaultdict(set)
        self.reached: Set[str] = set()
        self.todo: List[str] = []

    def request(self, pid: str, feats: Set[str]) -> None:
        new = feats - self.features[pid]
        if new or pid not in self.reached:
            self.features[pid] |= new
            self.reached.add(pid)
            self.todo.append(pid)

    def run(self) -> None:
        while self.todo:
            self._visit(self.todo.pop())

    def _visit(self, pid: str) -> None:
        package = self.packages.get(pid)
        node = self.nodes.get(pid)
        if package is None or node is None:
            return
        table: Mapping[str, Sequence[str]] = package.get("features", {}) or {}
        decls = [d for d in package.get("dependencies", []) if self._followed(pid, d)]
        optional = {_local(d) for d in decls if d.get("optional")}
        active, asks, weak = self._expand(pid, table, optional)
        for decl in decls:
            local = _local(decl)
            if decl.get("optional") and local not in active:
                continue
            dep_id = self._edge(node, decl)
            if dep_id is None:  # not for this platform, or not in the resolve
                continue
            feats = set(decl.get("features", []))
            if decl.get("uses_default_features", True):
                feats.add("default")
            feats |= asks.get(local, set()) | weak.get(local, set())
            self.request(dep_id, feats)

    def _followed(self, pid: str, decl: Mapping[str, Any]) -> bool:
        kind_ok = decl.get("kind") in (None, "normal", "build") or (
            decl.get("kind") == "dev" and pid == self.root_id
        )
        target = decl.get("target")
        return kind_ok and (not target or platform_applies(str(target), self.platform()))

    def _expand(
        self, pid: str, table: Mapping[str, Sequence[str]], optional: Set[str]
    ) -> Tuple[Set[str], Dict[str, Set[str]], Dict[str, Set[str]]]:
        """The package's features closed over its [features] table.

        Returns the optional dependencies turned on, the features asked of
        dependencies (``dep/feature``) and the weak asks (``dep?/feature``, only
        if something else turns the dependency on).
        """
        active: Set[str] = set()
        asks: DefaultDict[str, Set[str]] = defaultdict(set)
        weak: DefaultDict[str, Set[str]] = defaultdict(set)
        explicit_dep = {v[4:] for values in table.values() for v in values if v.startswith("dep:")}
        todo = list(self.features[pid])
        seen: Set[str] = set()
        while todo:
            item = todo.pop()
            if item in seen:
                continue
            seen.add(item)
            if item.startswith("dep:"):
                active.add(item[4:])
            elif "/" in item:
                dep, feature = item.split("/", 1)
                if dep.endswith("?"):
                    weak[dep[:-1]].add(feature)
                else:
                    if dep in optional:
                        active.add(dep)
                    asks[dep].add(feature)
                    if dep in table:
                        todo.append(dep)  # cargo also turns on a feature named after the dependency
            elif item in table:
                todo.extend(table[item])
            elif item in optional and item not in explicit_dep:
                active.add(item)
        self.features[pid] |= {f for f in seen if "/" not in f and not f.startswith("dep:")}
        return active, dict(asks), dict(weak)

    def _edge(self, node: Mapping[str, Any], decl: Mapping[str, Any]) -> Any:
        """The package id a dependency declaration resolved to, if the resolve has that edge."""
        name = _local(decl).replace("-", "_")
        wanted = (decl.get("kind") or None, decl.get("target") or None)
        by_package = None
        for dep in node.get("deps", []):
            # a platform-specific declaration counts only if the resolve kept it for this platform
            kinds = [
                (k.get("kind") or None, k.get("target") or None)
                for k in dep.get("dep_kinds", [{"kind": None}])
            ]
            if wanted not in kinds:
                continue
            if dep.get("name") == name:
                return str(dep["pkg"])
            package = self.packages.get(str(dep["pkg"]), {})
            if not decl.get("rename") and package.get("name") == decl["name"]:
                by_package = str(dep["pkg"])  # a [lib] name other than the package's
        return by_package


def _local(decl: Mapping[str, Any]) -> str:
    """The name a dependency has in its dependent's manifest (the rename, if any)."""
    return str(decl.get("rename") or decl["name"])


# --- [target.'cfg(...)'.dependencies] ------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>[(),=]))'
)
_Expr = Union[Tuple[str, Optional[str]], Tuple[str, List[Any]]]


def platform_applies(target: str, platform: Platform) -> bool:
    """Whether a dependency's ``target`` (a triple or ``cfg(...)``) holds for the platform.

    As cargo reads it: a name that rustc does not print (a custom cfg, ``miri``) is false.
    """
    triple, values = platform
    if not target.startswith("cfg(") or not target.endswith(")"):
        return target == triple
    tokens = [m for m in _TOKEN.finditer(target[4:-1]) if m.group(0).strip()]
    try:
        expr, rest = _parse(tokens, 0)
    except (IndexError, ValueError):
        return True  # a cfg we cannot read: trust the resolve, which kept the edge
    return _eval(expr, values) if rest == len(tokens) else True


def _parse(tokens: List[Any], i: int) -> Tuple[Any, int]:
    word = tokens[i].group("word")
    if word is None:
        raise ValueError("expected a name")
    i += 1
    if word in ("all", "any", "not") and i < len(tokens) and tokens[i].group("op") == "(":
        i += 1
        items: List[Any] = []
        while tokens[i].group("op") != ")":
            item, i = _parse(tokens, i)
            items.append(item)
            if tokens[i].group("op") == ",":
                i += 1
        return (word, items), i + 1
    if i < len(tokens) and tokens[i].group("op") == "=":
        value = tokens[i + 1].group("str")
        if value is None:
            raise ValueError("expected a string")
        return ("=", (word, value[1:-1])), i + 2
    return ("name", word), i


def _eval(expr: Any, values: FrozenSet[Tuple[str, Optional[str]]]) -> bool:
    op, arg = expr
    if op == "all":
        return all(_eval(e, values) for e in arg)
    if op == "any":
        return any(_eval(e, values) for e in arg)
    if op == "not":
        return not _eval(arg[0], values) if arg else True
    if op == "=":
        return (arg[0], arg[1]) in values
    return (arg, None) in values
