"""The release check: are the wheels to upload exactly what the sdist builds?

The wheels of a release (built from the checkout, tested) are built once more
from the sdist, unpacked in a clean folder, with the same options, reproducibly
(see :mod:`maturin_nox.reproducible`), offline and ``--locked`` when the sdist
carries a ``Cargo.lock``, as maturin builds its own. Each wheel of the release
must come out byte for byte the same. That proves two things at once: the sdist
holds everything the build needs (a file only the checkout has changes the
wheel or breaks the build), and the wheel is reproducible (a build that writes
the time or the machine into the library changes its bytes). A difference
names the archive members that differ.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

from .errors import MaturinNoxError
from .options import BuildOptions

__all__ = ["FromSdist", "ReleaseCheck", "check_from_sdist", "member_differences"]

log = logging.getLogger("maturin_nox")


@dataclass(frozen=True)
class FromSdist:
    """One release wheel against the wheel of the same name built from the sdist."""

    wheel: str
    built: bool  # the sdist gave a wheel of this name
    identical: bool  # ... with the same bytes
    differences: Tuple[str, ...] = ()  # what differs, one phrase each

    def summary(self) -> str:
        """A few words for the gate's table (the reproducible column)."""
        if self.identical:
            return "identical"
        if not self.built:
            return "not built"
        return (
            "differs: "
            + ", ".join(self.differences[:3])
            + (", ..." if len(self.differences) > 3 else "")
        )


@dataclass(frozen=True)
class ReleaseCheck:
    """The sdist a release was checked against, and what each of its wheels showed."""

    sdist: Path
    files: Mapping[str, FromSdist]
    problems: Tuple[str, ...] = ()  # the sdist itself could not be unpacked or built

    def problems_of(self, wheel: str) -> List[str]:
        """Why a wheel fails the check, one sentence each (empty when it passed)."""
        result = self.files.get(wheel)
        if result is None:
            return [f"{wheel} was not checked against {self.sdist.name}."]
        if result.identical:
            return []
        if not result.built:
            why = (
                self.problems[0].rstrip(".") if self.problems else "no wheel of this name came out"
            )
            return [f"{wheel} could not be built from {self.sdist.name}: {why}."]
        return [
            f"{wheel} differs from the wheel built from {self.sdist.name} in "
            + "; ".join(result.differences)
            + ": the sdist misses a file the build needs, or the build is not reproducible."
        ]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def member_differences(release: Path, rebuilt: Path) -> Tuple[str, ...]:
    """The archive members that differ between two wheels, one phrase each."""
    with zipfile.ZipFile(release) as a, zipfile.ZipFile(rebuilt) as b:
        ours = {i.filename: i for i in a.infolist()}
        theirs = {i.filename: i for i in b.infolist()}
        out: List[str] = []
        for name in sorted(set(ours) - set(theirs)):
            out.append(f"{name} (missing from the wheel built from the sdist)")
        for name in sorted(set(theirs) - set(ours)):
            out.append(f"{name} (only in the wheel built from the sdist)")
        for name in sorted(set(ours) & set(theirs)):
            x, y = ours[name], theirs[name]
            if x.CRC != y.CRC or x.file_size != y.file_size:
                out.append(f"{name} ({_first_difference(a.read(x), b.read(y))})")
            elif (x.date_time, x.external_attr, x.compress_type) != (
                y.date_time,
                y.external_attr,
                y.compress_type,
            ):
                out.append(f"{name} (time, mode or compression)")
    return tuple(out) or ("the archive layout",)


def _first_difference(ours: bytes, theirs: bytes) -> str:
    """Where two versions of a member part: the first differing line of a text, else 'contents'."""
    try:
        left, right = ours.decode("utf-8").splitlines(), theirs.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return "contents"
    for number, (x, y) in enumerate(zip(left, right), start=1):
        if x != y:
            return f"contents, line {number}: {x.strip()[:60]!r} here, {y.strip()[:60]!r} from the sdist"
    return "contents, length"


def check_from_sdist(
    wheels: Sequence[Path],
    sdist: Path,
    options: BuildOptions,
) -> ReleaseCheck:
    """Build the wheels from ``sdist`` as ``options`` say, and compare them with ``wheels``."""
    from .builder import build
    from .from_sdist import manifest_of, unpack_sdist

    sdist = Path(sdist)
    results: Dict[str, FromSdist] = {}
    problems: List[str] = []
    with tempfile.TemporaryDirectory(prefix="maturin-nox-release-") as tmp:
        rebuilt: Dict[str, Path] = {}
        try:
            top = unpack_sdist(sdist, Path(tmp) / "src")
            manifest = manifest_of(top)
            locked = (top / "Cargo.lock").is_file() or (manifest.parent / "Cargo.lock").is_file()
            opts = options.replace(
                manifest_path=manifest,
                cwd=top,
                out_dir=Path(tmp) / "wheels",
                reproducible=True,
                locked=options.locked or locked,
                offline=options.offline or locked,
            )
            log.info(f"📦 Building the release's wheels again from {sdist.name}")
            for built in build(opts):
                rebuilt[built.path.name] = built.path
        except MaturinNoxError as exc:
            problems.append(exc.message)
        for wheel in wheels:
            other = rebuilt.get(wheel.name)
            if other is None:
                results[wheel.name] = FromSdist(wheel.name, False, False)
            elif _sha256(other) == _sha256(wheel):
                results[wheel.name] = FromSdist(wheel.name, True, True)
            else:
                diff = member_differences(wheel, other)
                results[wheel.name] = FromSdist(wheel.name, True, False, diff)
    return ReleaseCheck(sdist, results, tuple(problems))
