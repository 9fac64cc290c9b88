"""The verdict on a set of ELF files: which policies they meet, and what blocks the others.

The files are *members*: the ELFs of one wheel, or the cargo artifacts about to
go into one, keyed by location. A wheel's members live under the virtual folder
:data:`WHEEL_ROOT` so that ``$ORIGIN`` paths between them resolve without
unpacking the archive; anything else is looked up on this machine. The rules
follow auditwheel's: a library is *external* for a policy when the policy does
not list it and it is not a member; its own dependencies count too; symbol
versions of external libraries count as they would once grafted.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from ..errors import AuditError
from .elf import ElfInfo, read_elf
from .libsearch import LibrarySearch, expand_origin
from .policy import Policy, policies_for

__all__ = ["LIBPYTHON_RE", "WHEEL_ROOT", "Analysis", "Blockers", "SymbolNeed", "analyze_members"]

WHEEL_ROOT = "/<wheel>"
LIBPYTHON_RE = re.compile(r"^libpython\d+\.\d+[mut]*\.so(\.\d+)*$")  # 3.13t: free-threaded
_PYFPE = frozenset({"PyFPE_jbuf", "PyFPE_dummy", "PyFPE_counter"})


def is_loader(soname: str) -> bool:
    """The dynamic loader itself is never a dependency to audit."""
    return "ld-linux" in soname or soname in ("ld64.so.1", "ld64.so.2")


def display_name(location: str) -> str:
    """A member's location as users know it: the arcname inside a wheel, else the path."""
    prefix = WHEEL_ROOT + "/"
    return location[len(prefix) :] if location.startswith(prefix) else location


@dataclass(frozen=True)
class SymbolNeed:
    """A file that needs a symbol version from a library."""

    file: str
    library: str
    version: str
    symbol: str


@dataclass(frozen=True)
class Blockers:
    """What stands between the files and one policy; empty means it is met."""

    policy: Policy
    external_libs: Mapping[str, Optional[Path]]  # soname -> where it was found (None: nowhere)
    symbol_versions: Tuple[SymbolNeed, ...] = ()  # versions the policy does not allow
    blacklisted: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)  # file: lib: syms
    isa: Tuple[Tuple[str, str], ...] = ()  # (file, level) needing more than the baseline
    pyfpe: Tuple[str, ...] = ()  # extensions using PyFPE_jbuf
    libpython: Tuple[str, ...] = ()  # libraries (extensions or not) linked to libpython

    def met(self) -> bool:
        """Whether the files meet the policy as they are."""
        return not (self.external_libs or self.graft_blockers())

    def met_by_grafting(self) -> bool:
        """Whether copying the external libraries into the wheel would meet the policy."""
        return not self.graft_blockers() and all(p is not None for p in self.external_libs.values())

    def graft_blockers(self) -> bool:
        """Whether something grafting cannot fix blocks the policy."""
        return bool(
            self.symbol_versions or self.blacklisted or self.isa or self.pyfpe or self.libpython
        )

    def reasons(self) -> List[str]:
        """One sentence per obstacle."""
        name = self.policy.name
        out = [
            f"{n.file} needs {n.version}"
            + (f" (symbol `{n.symbol}`)" if n.symbol else "")
            + f" from {n.library}, which {name} does not allow"
            for n in self.symbol_versions
        ]
        out += [
            f"{f} links {lib}, which a library must not do (a program may)"
            for f in self.libpython
            for lib in self.external_libs
            if LIBPYTHON_RE.match(lib)
        ]
        out += [
            f"{lib} is not allowed by {name}"
            + (f" (found at {p})" if p else " and was not found on this machine")
            for lib, p in sorted(self.external_libs.items())
            if not LIBPYTHON_RE.match(lib)
        ]
        out += [
            f"{key} uses blacklisted symbols {', '.join(syms)}, which {name} forbids"
            for key, syms in sorted(self.blacklisted.items())
        ]
        out += [
            f"{f} needs {level} instructions, beyond the {self.policy.arch} baseline"
            for f, level in self.isa
        ]
        out += [
            f"{f} uses PyFPE_jbuf, which no manylinux/musllinux policy allows" for f in self.pyfpe
        ]
        return out


@dataclass(frozen=True)
class Analysis:
    """The verdict for a set of members under every policy of their libc and architecture."""

    arch: str
    libc: str
    blockers: Tuple[Blockers, ...]  # best policy first, linux last
    versioned_symbols: Mapping[str, FrozenSet[str]]  # library -> versions the members need
    members: Mapping[str, ElfInfo]

    def policy(self, name: str) -> Blockers:
        """The blockers for the policy called ``name``."""
        for b in self.blockers:
            if b.policy.name == name:
                return b
        raise KeyError(name)

    def candidates(self) -> List[Blockers]:
        """The policies worth choosing from on their own, best first."""
        if self.libc == "musl":
            # musl has no symbol versions to tell 1.1 from 1.2 binaries by; Rust (since
            # 1.71) and today's Alpine use musl 1.2, so that is the honest default.
            return [b for b in self.blockers if b.policy.name != "musllinux_1_1"]
        return list(self.blockers)

    def best(self, *, graft: bool = False) -> Policy:
        """The best policy met (by grafting, if allowed), linux when nothing better is."""
        usable = self.candidates()
        if graft:
            return next(b.policy for b in usable if b.policy.is_linux or b.met_by_grafting())
        # As auditwheel: the best policy per criterion, then the worst of those.
        checks: List[Callable[[Blockers], bool]] = [
            lambda b: not b.external_libs,
            lambda b: not b.symbol_versions,
            lambda b: not b.blacklisted,
            lambda b: not (b.isa or b.pyfpe or b.libpython),
        ]
        order = [b.policy for b in usable]
        worst = 0
        for check in checks:
            first = next(i for i, b in enumerate(usable) if b.policy.is_linux or check(b))
            worst = max(worst, first)
        return order[worst]


@dataclass
class _Node:
    location: Optional[str]  # member location or real path; None when not found
    member: bool
    elf: Optional[ElfInfo]


def analyze_members(
    members: Mapping[str, ElfInfo],
    *,
    libc: Optional[str] = None,
    extra_lib_dirs: Sequence[Path] = (),
) -> Analysis:
    """Resolve every member's dependencies and judge them against each policy."""
    if not members:
        raise AuditError("There is no ELF file to audit.")
    arch = _common_arch(members)
    if libc is None:
        libc = "musl" if any(e.is_musl for e in members.values()) else "glibc"
    policies = policies_for(libc, arch)
    search = LibrarySearch(libc, arch, extra_lib_dirs)
    # Libraries every real policy allows: never walked into, never parsed.
    real = [p for p in policies if not p.is_linux]
    always_allowed = real[0].libraries if real else frozenset()
    trees = {loc: _dependency_tree(loc, members, search, always_allowed) for loc in _tops(members)}
    versioned: Dict[str, set[str]] = {}
    for elf in members.values():
        for lib, versions in elf.version_needs.items():
            if not is_loader(lib):
                versioned.setdefault(lib, set()).update(versions)
    blockers = tuple(_judge(p, trees, members) for p in policies)
    return Analysis(
        arch, libc, blockers, {k: frozenset(v) for k, v in versioned.items()}, dict(members)
    )


def _common_arch(members: Mapping[str, ElfInfo]) -> str:
    first_loc, first = next(iter(members.items()))
    for loc, elf in members.items():
        if elf.arch is None:
            raise AuditError(f"{display_name(loc)} is an ELF file for an unknown architecture.")
        if elf.arch != first.arch:
            raise AuditError(
                f"{display_name(loc)} is built for {elf.arch} but {display_name(first_loc)} "
                f"for {first.arch}; one wheel holds binaries for one architecture."
            )
    assert first.arch is not None
    return first.arch


def _tops(members: Mapping[str, ElfInfo]) -> List[str]:
    """Extensions, and members no other member needs (as auditwheel picks them)."""
    needed = {n for e in members.values() for n in e.needed}
    return [
        loc
        for loc, e in members.items()
        if e.is_extension() or posixpath.basename(loc) not in needed
    ]


def _dependency_tree(
    top: str, members: Mapping[str, ElfInfo], search: LibrarySearch, always_allowed: FrozenSet[str]
) -> Dict[str, _Node]:
    """Every library ``top`` loads, by soname, resolved like the loader would."""
    top_elf = members[top]
    top_origin = posixpath.dirname(top)
    # The executable's RPATH also applies to everything it loads (not its RUNPATH).
    inherited = (
        () if top_elf.runpath else tuple(expand_origin(r, top_origin) for r in top_elf.rpath)
    )
    tree: Dict[str, _Node] = {}
    todo: List[Tuple[str, ElfInfo]] = [(top, top_elf)]
    while todo:
        location, elf = todo.pop()
        origin = posixpath.dirname(location)
        dirs = search.search_dirs(
            [expand_origin(r, origin) for r in elf.rpath],
            [expand_origin(r, origin) for r in elf.runpath],
            inherited,
        )
        for soname in elf.needed:
            if soname in tree or is_loader(soname):
                continue
            if LIBPYTHON_RE.match(soname):
                tree[soname] = _Node(None, False, None)  # reported, never followed
                continue
            node = _resolve(soname, dirs, members, search, always_allowed)
            tree[soname] = node
            if node.elf is not None and node.location is not None:
                todo.append((node.location, node.elf))
    return tree


def _resolve(
    soname: str,
    dirs: Sequence[str],
    members: Mapping[str, ElfInfo],
    search: LibrarySearch,
    always_allowed: FrozenSet[str],
) -> _Node:
    for folder in dirs:
        location = posixpath.join(folder, soname)
        if location in members:
            return _Node(location, True, members[location])
        if folder.startswith(WHEEL_ROOT + "/") or folder == WHEEL_ROOT:
            continue
        found = search.find(soname, (folder,))
        if found is not None:
            elf = None if soname in always_allowed else _read_system_elf(found)
            return _Node(str(found), False, elf)
    return _Node(None, False, None)


_SYSTEM_ELVES: Dict[str, ElfInfo] = {}


def _read_system_elf(path: Path) -> ElfInfo:
    """Parse a library of this machine once per process."""
    key = str(path)
    if key not in _SYSTEM_ELVES:
        _SYSTEM_ELVES[key] = read_elf(path)
    return _SYSTEM_ELVES[key]


def _judge(
    policy: Policy, trees: Mapping[str, Dict[str, _Node]], members: Mapping[str, ElfInfo]
) -> Blockers:
    """The blockers of one policy for all top members together."""
    if policy.is_linux:
        return Blockers(policy, {})
    external: Dict[str, Optional[Path]] = {}
    blacklisted: Dict[str, Tuple[str, ...]] = {}
    libpython: List[str] = []
    for top, tree in trees.items():
        elf = members[top]
        for lib in _external_closure(elf.needed, tree, policy):
            node = tree[lib]
            if not node.member:
                if LIBPYTHON_RE.match(lib) and elf.interpreter is not None:
                    # a program embedding Python (pyo3's auto-initialize) runs on the user's
                    # libpython: neither an obstacle nor grafted, as maturin has it for bins
                    continue
                external[lib] = Path(node.location) if node.location else None
                if LIBPYTHON_RE.match(lib):
                    libpython.append(display_name(top))
        for lib in set(policy.blacklist) & set(elf.needed):
            hits = sorted(policy.blacklist[lib] & elf.undefined)
            if hits:
                blacklisted[f"{display_name(top)}: {lib}"] = tuple(hits)
    needs = [
        SymbolNeed(display_name(loc), lib, version, symbol)
        for loc, elf in members.items()
        for lib, versions in elf.version_needs.items()
        if not is_loader(lib)
        for version, symbol in versions.items()
    ]
    for lib, path in external.items():  # grafted libraries bring their own needs
        node_elf = _SYSTEM_ELVES.get(str(path)) if path else None
        if node_elf is not None:
            needs += [
                SymbolNeed(lib, dep, version, symbol)
                for dep, versions in node_elf.version_needs.items()
                if not is_loader(dep)
                for version, symbol in versions.items()
            ]
    bad = tuple(
        sorted(
            {n for n in needs if not policy.allows_version(n.version)},
            key=lambda n: (n.file, n.library, n.version),
        )
    )
    isa = tuple((display_name(loc), e.isa_level) for loc, e in members.items() if e.isa_level)
    pyfpe = tuple(
        display_name(loc)
        for loc in trees
        if members[loc].is_extension() and members[loc].undefined & _PYFPE
    )
    return Blockers(policy, external, bad, blacklisted, isa, pyfpe, tuple(sorted(set(libpython))))


def _external_closure(needed: Sequence[str], tree: Mapping[str, _Node], policy: Policy) -> set[str]:
    """Libraries not allowed by ``policy``, reachable through other such libraries."""

    def keep(lib: str) -> bool:
        return not is_loader(lib) and lib not in policy.libraries and lib in tree

    seen: set[str] = set()
    todo = [lib for lib in needed if keep(lib)]
    while todo:
        lib = todo.pop()
        if lib in seen:
            continue
        seen.add(lib)
        elf = tree[lib].elf
        if elf is not None:
            todo += [d for d in elf.needed if keep(d) and d not in seen]
    return seen
