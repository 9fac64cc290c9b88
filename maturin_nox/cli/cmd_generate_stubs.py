"""``maturin-nox generate-stubs``: write the ``.pyi`` files of pyo3's introspection data,
as ``maturin generate-stubs`` does (build for one interpreter, write into ``--out``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..options import BuildOptions, add_output_arguments, bindings_kind

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Build the library (or read ``--lib``) and write its stubs."""
    from ..stubs import generate_stubs

    if args.lib is not None:
        building = {
            "-i/--interpreter": args.interpreter,
            "-f/--find-interpreter": args.find_interpreter,
            "--profile": args.profile,
            "-F/--features": args.features,
            "--all-features": args.all_features,
            "--no-default-features": args.no_default_features,
            "--target-dir": args.target_dir,
            "cargo arguments": args.cargo_args,
        }
        given = [flag for flag, value in building.items() if value]
        if given:
            raise ConfigError(
                f"--lib reads a library that is already built, so {', '.join(given)} "
                f"would do nothing; drop {'it' if len(given) == 1 else 'them'} or drop --lib.",
                key="lib",
            )
    options = BuildOptions(
        manifest_path=args.manifest_path,
        interpreters=tuple(args.interpreter),
        find_interpreter=args.find_interpreter,
        bindings=args.bindings,
        profile=args.profile,
        features=tuple(args.features),
        all_features=args.all_features,
        no_default_features=args.no_default_features,
        target_dir=args.target_dir,
        cargo_args=tuple(args.cargo_args),
        quiet=getattr(args, "quiet", False),
    )
    written = generate_stubs(options, args.out, library=args.lib)
    for path in written:
        print(f"📖 Wrote {path}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``generate-stubs`` subcommand."""
    parser = sub.add_parser(
        "generate-stubs",
        help="Write .pyi stubs from the library's pyo3 introspection data",
        description=(
            "Build the library for one interpreter (the first of -i, else the default one) and "
            'write the stubs its pyo3 "experimental-inspect" introspection data describes, laid '
            "out as in the wheel (without py.typed) so OUT can be copied over the Python sources: "
            "OUT/<module>/ for a pure Rust project; OUT/<package>/<ext>.pyi, or OUT/<package>/<ext>/ "
            "with submodules, for a mixed one. A folder written to is replaced."
        ),
    )
    parser.add_argument(
        "-o", "--out", type=Path, required=True, help="The directory to write the stubs into"
    )
    parser.add_argument("-m", "--manifest-path", type=Path, help="Path to Cargo.toml")
    parser.add_argument(
        "-i",
        "--interpreter",
        action="append",
        default=[],
        metavar="PYTHON",
        help="Python interpreter to build for (only the first one is used)",
    )
    parser.add_argument(
        "-f", "--find-interpreter", action="store_true", help="Find interpreters on PATH and pyenv"
    )
    parser.add_argument(
        "-b", "--bindings", type=bindings_kind, help="Which kind of bindings to use"
    )
    parser.add_argument("--profile", help="Build with the given cargo profile (default: dev)")
    parser.add_argument(
        "-F", "--features", action="append", default=[], help="Cargo features to activate"
    )
    parser.add_argument("--all-features", action="store_true", help="Activate all cargo features")
    parser.add_argument(
        "--no-default-features", action="store_true", help="Do not activate the default features"
    )
    parser.add_argument("--target-dir", type=Path, help="Cargo target directory root")
    parser.add_argument(
        "--lib",
        type=Path,
        metavar="PATH",
        help="Read this built library instead of building (maturin-nox's own flag)",
    )
    parser.add_argument(
        "cargo_args", nargs="*", metavar="-- CARGO_ARGS", help="Extra arguments for cargo"
    )
    add_output_arguments(parser)
    parser.set_defaults(func=run)
