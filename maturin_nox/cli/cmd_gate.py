"""``maturin-nox gate [FOLDER]``: the publish gate's verdict on a folder of wheels and sdists.

The verdict ``nox -s publish`` checks before uploading, without uploading: each
wheel needs a passing audit and passing tests recorded for its current bytes,
and every file must pass twine's metadata check. ``--merge`` first adds the
results recorded elsewhere, e.g. by the test jobs of a CI matrix, each of which
uploaded its ``.maturin-nox-results.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List, Sequence

from ..errors import UploadError

__all__ = ["register", "run"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    return [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [headers, *rows]
    ]


def run(args: argparse.Namespace) -> int:
    """Merge the given results, judge the folder, print the table; fail unless all passed."""
    from .. import gate

    folder: Path = args.folder
    if not folder.is_dir():
        raise UploadError(f"{folder} is not a folder of wheels and sdists.")
    if args.merge:
        added = gate.merge_results(folder, args.merge)
        print(f"📥 Merged {added} recorded results from {len(args.merge)} source(s)")
    verdict = gate.evaluate(
        folder, check_metadata=not args.no_check, require_tests=not args.allow_untested
    )
    rows = [[f.path.name, f.audit, f.tests, f.check] for f in verdict.files]
    if rows:
        for line in _table(["File", "Audit", "Tests", "Metadata check"], rows):
            print(line)
    if not verdict.ok:
        if not verdict.files:
            raise UploadError(verdict.problems[0])
        for problem in verdict.problems:
            print(f"   {problem}")
        raise UploadError(
            f"{len(verdict.failed())} of {len(verdict.files)} files in {folder} "
            "did not pass the publish gate."
        )
    print(f"✅ All {len(verdict.files)} files in {folder} passed the publish gate")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``gate`` subcommand."""
    parser = sub.add_parser(
        "gate",
        help="Check that every wheel and sdist in a folder may be published (uploads nothing)",
        description="The publish gate, without the upload: every wheel needs a passing audit "
        "and passing tests recorded (by the audit and test nox sessions) for its current bytes, "
        "and every file must pass twine's metadata check. Exits 1 naming what blocks.",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path("target/wheels"),
        help="The folder of wheels and sdists (default: target/wheels)",
    )
    parser.add_argument(
        "--merge",
        action="append",
        default=[],
        type=Path,
        metavar="RESULTS",
        help="A results file (or a folder holding .maturin-nox-results.json) recorded "
        "elsewhere, e.g. by a CI test job, to add first (repeatable)",
    )
    parser.add_argument(
        "--no-check", action="store_true", help="Skip twine's metadata check of the files"
    )
    parser.add_argument(
        "--allow-untested",
        action="store_true",
        help="Let wheels without recorded test runs through (a recorded failure still blocks; "
        "for workflows that run no tests, generate-ci's pytest = false)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="Print more")
    parser.set_defaults(func=run)
