"""``maturin-nox audit WHEEL...`` and ``maturin-nox repair WHEEL``: check and fix Linux wheels."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``audit`` and ``repair`` subcommands."""
    audit = subparsers.add_parser(
        "audit",
        help="Tell which manylinux/musllinux tag wheels are consistent with",
        description="Audit Linux wheels (any wheel, not only ours): the best platform tag, "
        "versioned symbols per library, external libraries and what blocks better tags.",
    )
    audit.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL")
    audit.add_argument("--json", action="store_true", help="print one JSON object per wheel")
    audit.set_defaults(func=_audit)

    repair = subparsers.add_parser(
        "repair",
        help="Copy external libraries into a wheel and retag it",
        description="Graft the external shared libraries a wheel needs into it (with patchelf) "
        "and retag it for the best policy it then meets, or the one given with --plat.",
    )
    repair.add_argument("wheel", type=Path, metavar="WHEEL")
    repair.add_argument(
        "-w",
        "--wheel-dir",
        type=Path,
        default=Path("wheelhouse"),
        help="where to write the repaired wheel (default: wheelhouse)",
    )
    repair.add_argument(
        "--plat",
        "--compatibility",
        dest="plat",
        default=None,
        help="the policy to repair for, e.g. manylinux_2_17 or manylinux2014",
    )
    repair.set_defaults(func=_repair)


def _audit(args: argparse.Namespace) -> int:
    from ..audit.report import analyze_wheel  # imported here: keeps `maturin-nox --help` fast

    reports = [analyze_wheel(path) for path in args.wheels]
    if args.json:
        data = [r.to_dict() for r in reports]
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2))
    else:
        print("\n\n".join(r.to_text() for r in reports))
    return 0


def _repair(args: argparse.Namespace) -> int:
    from ..audit.repair import repair_wheel

    plat = args.plat
    if plat:
        # accept a full platform tag as auditwheel does: manylinux_2_17_x86_64 -> manylinux_2_17
        for arch in (
            "_x86_64",
            "_i686",
            "_aarch64",
            "_ppc64le",
            "_ppc64",
            "_s390x",
            "_armv7l",
            "_riscv64",
            "_loongarch64",
        ):
            if plat.endswith(arch):
                plat = plat[: -len(arch)]
                break
    out = repair_wheel(args.wheel, args.wheel_dir, compatibility=plat)
    print(f"📦 Repaired wheel: {out}")
    return 0
