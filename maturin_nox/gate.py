"""The publish gate: audit and test results recorded per wheel, and the verdict they add up to.

The ``audit`` and ``test`` nox sessions record what they found in a JSON file in
the wheel folder (:data:`RESULTS_FILE`), each result tied to the sha256 of the
wheel it was found for. :func:`evaluate` reads it back before an upload: every
wheel in the folder needs a passing audit and passing tests for its *current*
contents, and every distribution must pass twine's metadata check. A rebuilt
wheel with other bytes, a corrupted one, or one nobody tested, blocks the
upload. This module knows nothing of nox; ``maturin-nox publish`` uses it too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .atomic import write_text_atomic
from .common import StrPath
from .errors import AuditError, ConfigError, MaturinNoxError, WheelError

if TYPE_CHECKING:
    from .release import ReleaseCheck
from .locks import exclusive

__all__ = [
    "RESULTS_FILE",
    "TABLE_HEADERS",
    "AuditResult",
    "TestResult",
    "Verdict",
    "WheelVerdict",
    "audit_wheel",
    "distributions",
    "evaluate",
    "file_sha256",
    "load_results",
    "record_audit",
    "record_test",
]

log = logging.getLogger("maturin_nox")

RESULTS_FILE = ".maturin-nox-results.json"
_FORMAT = 1
_SDIST_SUFFIXES = (".tar.gz", ".zip")


# --- what is in the folder ---------------------------------------------------------


def file_sha256(path: StrPath) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def distributions(folder: StrPath) -> Tuple[List[Path], List[Path]]:
    """The wheels and the sdists in a folder, sorted by name; hidden files are not ours."""
    root = Path(folder)
    if not root.is_dir():
        return [], []
    files = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
    wheels = [p for p in files if p.name.endswith(".whl")]
    sdists = [p for p in files if p.name.endswith(_SDIST_SUFFIXES)]
    return wheels, sdists


# --- audit -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditResult:
    """The audit of one wheel: RECORD and metadata consistency, then the platform policy."""

    wheel: str
    sha256: str
    ok: bool
    tag: Optional[str] = None  # the best platform tag the binaries allow; None if pure
    problems: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()

    def summary(self) -> str:
        """A few words for a results table."""
        if not self.ok:
            return f"FAILED: {self.problems[0]}" if self.problems else "FAILED"
        return f"passed ({self.tag})" if self.tag else "passed (pure)"


def audit_wheel(path: StrPath) -> AuditResult:
    """Audit a wheel: RECORD hashes, names and tags against METADATA/WHEEL, platform policy,
    and for an abi3 wheel the limited API of its minimum Python (abi3audit)."""
    from .audit.abi3 import abi3_problems, is_abi3_wheel
    from .wheel import read_wheel

    wheel = Path(path)
    sha = file_sha256(wheel)
    try:
        contents = read_wheel(wheel, verify_record=True)
    except WheelError as exc:
        return AuditResult(wheel.name, sha, False, problems=(exc.message,))
    problems = _metadata_problems(wheel, contents.metadata(), contents.wheel_tags(), contents.tag)
    if problems:
        return AuditResult(wheel.name, sha, False, problems=tuple(problems))
    try:
        tag, policy_problems, notes = _platform_problems(wheel)
        if is_abi3_wheel(wheel.name):
            policy_problems += abi3_problems(wheel)
    except (AuditError, ConfigError) as exc:
        return AuditResult(wheel.name, sha, False, problems=(exc.message,))
    return AuditResult(
        wheel.name, sha, not policy_problems, tag, tuple(policy_problems), tuple(notes)
    )


def _metadata_problems(
    wheel: Path, metadata: str, wheel_tags: Sequence[str], tag: str
) -> List[str]:
    """Where the file name disagrees with METADATA's name/version or the WHEEL tags."""
    from email.parser import HeaderParser

    from packaging.tags import parse_tag
    from packaging.utils import canonicalize_name, canonicalize_version, parse_wheel_filename

    problems: List[str] = []
    headers = HeaderParser().parsestr(metadata)
    name, version, _, _ = parse_wheel_filename(wheel.name)
    file_tags = set(parse_tag(tag))
    meta_name, meta_version = headers.get("Name"), headers.get("Version")
    if meta_name is None or canonicalize_name(meta_name) != name:
        problems.append(f"{wheel.name}: METADATA names the project {meta_name!r}, not {name}.")
    if meta_version is None or canonicalize_version(meta_version) != canonicalize_version(version):
        problems.append(f"{wheel.name}: METADATA has version {meta_version!r}, not {version}.")
    recorded = {t for line in wheel_tags for t in parse_tag(line)}
    if recorded != file_tags:
        problems.append(
            f"{wheel.name}: the WHEEL file's tags ({', '.join(sorted(map(str, recorded)))}) "
            "differ from the file name's."
        )
    return problems


def _platform_problems(wheel: Path) -> Tuple[Optional[str], List[str], List[str]]:
    """The best tag, claims the binaries do not honour, and notes (linux_* tags)."""
    from .audit import analyze_wheel, policy_by_name
    from .audit.report import wheel_libc_and_arch

    report = analyze_wheel(wheel, verify_record=False)  # read_wheel already verified it
    if report.pure or report.policy is None:
        return None, [], []
    libc, arch = wheel_libc_and_arch(wheel.name)
    platforms = wheel.name[: -len(".whl")].split("-")[-1].split(".")
    problems: List[str] = []
    notes: List[str] = []
    for platform in platforms:
        if arch is None or not platform.endswith(f"_{arch}"):
            continue
        claim = platform[: -len(arch) - 1]
        if claim == "linux":
            notes.append(f"{wheel.name} is tagged {platform}, which PyPI refuses.")
            continue
        claimed = policy_by_name(claim, libc or "glibc", arch)
        met = policy_by_name(report.policy, libc or "glibc", arch)
        if met.priority < claimed.priority:
            why = report.blockers.get(f"{claimed.name}_{arch}", ())
            detail = f": {why[0]}" if why else ""
            problems.append(
                f"{wheel.name} claims {platform} but its binaries only meet {report.tag}{detail}."
            )
    return report.tag, problems, notes


# --- tests -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """One run of a test command against one wheel installed for one interpreter."""

    __test__ = False  # not a pytest test class, whatever its name says

    wheel: str
    sha256: str
    interpreter: str  # "CPython 3.12.1"
    executable: str
    ok: bool
    command: Tuple[str, ...] = ()
    detail: str = ""  # "exit 1", "install failed: ..."

    def summary(self) -> str:
        """A few words for a results table."""
        return "passed" if self.ok else f"FAILED ({self.detail})" if self.detail else "FAILED"


# --- the results file --------------------------------------------------------------


def load_results(folder: StrPath) -> Dict[str, Any]:
    """The recorded results of a wheel folder (``{"format": 1, "wheels": {...}}``)."""
    path = Path(folder) / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": _FORMAT, "wheels": {}}
    except (OSError, ValueError):
        log.warning("Ignoring the unreadable results file %s.", path)
        return {"format": _FORMAT, "wheels": {}}
    if not isinstance(data, dict) or not isinstance(data.get("wheels"), dict):
        log.warning("Ignoring the results file %s: it is not in maturin-nox's format.", path)
        return {"format": _FORMAT, "wheels": {}}
    return data


def _write(folder: Path, data: Mapping[str, Any]) -> None:
    """Replace the results file atomically."""
    write_text_atomic(folder / RESULTS_FILE, json.dumps(data, indent=1, sort_keys=True))


def _entry(data: Dict[str, Any], wheel: str, sha256: str) -> Dict[str, Any]:
    """The wheel's record; a record for other bytes is dropped, it says nothing of these."""
    wheels: Dict[str, Any] = data["wheels"]
    entry = wheels.get(wheel)
    if not isinstance(entry, dict) or entry.get("sha256") != sha256:
        entry = {"sha256": sha256, "audit": None, "tests": {}}
        wheels[wheel] = entry
    return entry


def record_audit(folder: StrPath, result: AuditResult) -> None:
    """Store an audit result in the folder's results file."""
    root = Path(folder)
    with exclusive(root / f"{RESULTS_FILE}.lock"):
        data = load_results(root)
        entry = _entry(data, result.wheel, result.sha256)
        entry["audit"] = {**asdict(result), "when": time.time()}
        _write(root, data)


def record_test(folder: StrPath, result: TestResult) -> None:
    """Store a test result (one per wheel and interpreter) in the folder's results file."""
    root = Path(folder)
    with exclusive(root / f"{RESULTS_FILE}.lock"):
        data = load_results(root)
        entry = _entry(data, result.wheel, result.sha256)
        entry["tests"][result.executable] = {**asdict(result), "when": time.time()}
        _write(root, data)


# --- the verdict -------------------------------------------------------------------


@dataclass(frozen=True)
class WheelVerdict:
    """What the gate found for one distribution file: one row of its table."""

    path: Path
    sha256: str
    audit: str  # "passed", "failed", "missing", or "n/a" for an sdist
    tests: str  # likewise, or "not required"
    check: str  # "passed", "failed" or "skipped"
    problems: Tuple[str, ...] = ()
    audit_tag: Optional[str] = None  # the platform tag the audit found (None: pure or n/a)
    tests_passed: Tuple[int, int] = (0, 0)  # interpreters passed, run
    reproducible: str = "not checked"  # "identical", "differs: ...", "not built", "n/a"
    from_sdist: str = "not checked"  # "yes", "no", "n/a"

    @property
    def ok(self) -> bool:
        """Whether this file may be uploaded."""
        return not self.problems

    def row(self) -> List[str]:
        """The file's row in the gate's table."""
        audit = self.audit
        if audit == "passed":
            audit = f"passed ({self.audit_tag})" if self.audit_tag else "passed (pure)"
        tests = self.tests
        if tests in ("passed", "failed"):
            tests = f"{tests} ({self.tests_passed[0]}/{self.tests_passed[1]})"
        return [self.path.name, audit, tests, self.check, self.reproducible, self.from_sdist]


TABLE_HEADERS = ("File", "Audit", "Tests", "twine check", "Reproducible", "Built from sdist")


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for a folder: may its distributions be uploaded, and if not why."""

    folder: Path
    files: Tuple[WheelVerdict, ...]
    problems: Tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every file passed and there is something to upload."""
        return not self.problems

    @property
    def paths(self) -> List[Path]:
        """The files to upload: wheels first, then sdists, as twine orders them."""
        return [f.path for f in self.files]

    def table(self) -> List[List[str]]:
        """One row per file (see :data:`TABLE_HEADERS`): the one decision's grounds."""
        return [f.row() for f in self.files]

    def failed(self) -> List[WheelVerdict]:
        """The files that block the upload."""
        return [f for f in self.files if not f.ok]


def _judge_audit(name: str, entry: Mapping[str, Any]) -> Tuple[str, List[str]]:
    """The audit state of a wheel's current record and the problems it shows."""
    audit = entry.get("audit")
    if not isinstance(audit, dict):
        return "missing", [f"{name} has no audit recorded for its current contents."]
    if audit.get("ok") is True:
        return "passed", []
    reasons = audit.get("problems") or ["no reason recorded"]
    return "failed", [f"{name} failed its audit: {str(reasons[0]).rstrip('.')}."]


def _judge_tests(name: str, entry: Mapping[str, Any]) -> Tuple[str, List[str]]:
    """The test state of a wheel's current record and the problems it shows."""
    runs = [r for r in (entry.get("tests") or {}).values() if isinstance(r, dict)]
    if not runs:
        return "missing", [f"{name} has no test results recorded for its current contents."]
    failed = [r for r in runs if r.get("ok") is not True]
    if not failed:
        return "passed", []
    return "failed", [
        f"{name} failed its tests with {r.get('interpreter', '?')}"
        + (f" ({r['detail']})" if r.get("detail") else "")
        + "."
        for r in failed
    ]


def evaluate(
    folder: StrPath,
    *,
    check_metadata: bool = True,
    release: Optional[ReleaseCheck] = None,
    require_tests: bool = True,
    files: Optional[Sequence[Path]] = None,
) -> Verdict:
    """Judge the distributions of a folder: audit (made when none is recorded), tests, twine's
    check, and with ``release`` whether each wheel is what its sdist builds, byte for byte.

    ``files`` limits the judgement to those files of the folder (a publish judges what it
    built); ``require_tests=False`` lets wheels without test results through (maturin's
    publish runs no tests).
    """
    root = Path(folder).absolute()
    wheels, sdists = distributions(root)
    if files is not None:
        chosen = {Path(f).absolute() for f in files}
        wheels = [w for w in wheels if w.absolute() in chosen]
        sdists = [s for s in sdists if s.absolute() in chosen]
    if not wheels and not sdists:
        return Verdict(root, (), (f"There are no wheels or sdists in {root} to publish.",))
    results = load_results(root)["wheels"]
    checks: Dict[Path, Tuple[str, List[str]]] = {}
    if check_metadata:
        checks = _metadata_checks([*wheels, *sdists])
    verdicts: List[WheelVerdict] = []
    for path in [*wheels, *sdists]:
        sha = file_sha256(path)
        problems: List[str] = []
        audit = tests = "n/a"
        if path in wheels:
            entry = results.get(path.name)
            if not isinstance(entry, dict) or entry.get("sha256") != sha:
                entry = {}
            if not isinstance(entry.get("audit"), dict):
                # an audit takes a moment and needs nothing but the wheel: make it here
                result = audit_wheel(path)
                record_audit(root, result)
                entry = {**entry, "audit": asdict(result)}
            audit, audit_problems = _judge_audit(path.name, entry)
            tests, test_problems = _judge_tests(path.name, entry)
            if tests == "missing" and not require_tests:
                tests, test_problems = "not required", []
            problems += audit_problems + test_problems
            tag = (entry.get("audit") or {}).get("tag")
            runs = [r for r in (entry.get("tests") or {}).values() if isinstance(r, dict)]
            passed = (sum(1 for r in runs if r.get("ok") is True), len(runs))
            reproducible, from_sdist = "not checked", "not checked"
            if release is not None:
                rebuilt = release.files.get(path.name)
                problems += release.problems_of(path.name)
                reproducible = rebuilt.summary() if rebuilt is not None else "not checked"
                from_sdist = "yes" if rebuilt is not None and rebuilt.built else "no"
        else:
            tag, passed, reproducible, from_sdist = None, (0, 0), "n/a", "n/a"
        check, check_problems = checks.get(path, ("skipped", []))
        problems += check_problems
        verdicts.append(
            WheelVerdict(
                path,
                sha,
                audit,
                tests,
                check,
                tuple(problems),
                tag,
                passed,
                reproducible,
                from_sdist,
            )
        )
    return Verdict(root, tuple(verdicts), tuple(p for f in verdicts for p in f.problems))


def _metadata_checks(paths: Sequence[Path]) -> Dict[Path, Tuple[str, List[str]]]:
    """twine's metadata check per file: ("passed"|"failed", problems)."""
    from .upload import check_distributions

    out: Dict[Path, Tuple[str, List[str]]] = {}
    try:
        results = check_distributions(paths)
    except MaturinNoxError as exc:  # a file twine cannot even open
        return {
            p: ("failed", [f"{p.name} failed the metadata check: {exc.message}"]) for p in paths
        }
    for result in results:
        path = Path(result.path)
        if result.ok:
            out[path] = ("passed", [])
        else:
            first = result.messages[0].rstrip(".") if result.messages else "it is invalid"
            first = first[len(path.name) + 2 :] if first.startswith(f"{path.name}: ") else first
            out[path] = ("failed", [f"{path.name} failed the metadata check: {first}."])
    return out
