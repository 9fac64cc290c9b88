"""What each reusable session does: nox's session in, engine calls, a report out.

Every session runs with nox's ``venv_backend="none"``: the environments are
made by :mod:`maturin_nox.venv`, so one ``build`` session can build for every
interpreter. Engine errors become ``session.error`` with their one sentence;
a Python that is not installed becomes nox's own ``InterpreterNotFound``, which
nox turns into a skip (or a failure with ``--error-on-missing-interpreters``,
the default on CI).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import shlex
from pathlib import Path
from typing import Iterator, List, NoReturn, Optional, Sequence, Tuple

import nox
from nox.virtualenv import InterpreterNotFound

from .. import gate
from ..console import format_table
from ..errors import MaturinNoxError
from ..interpreters import Interpreter, InterpreterError, default, find_all, resolve
from ..options import BuildOptions, StrictParser
from .config import SessionConfig
from .matrix import TestPlan, plan_runs, run_wheel_tests, smoke_command, tests_folder

__all__ = ["audit", "build", "develop", "publish", "sdist", "test"]


def _parser(session: nox.Session) -> StrictParser:
    """A parser for a session's posargs that fails with one sentence naming the session."""
    prog = f"nox -s {session.name} --"
    return StrictParser(prog=prog, what=f"Bad arguments for `{prog}`", add_help=True)


def _global_option(session: nox.Session, name: str) -> bool:
    """A flag of nox's own command line (verbose, error_on_missing_interpreters)."""
    config = getattr(getattr(session, "_runner", None), "global_config", None)
    return bool(getattr(config, name, False))


@contextlib.contextmanager
def _reported(session: nox.Session) -> Iterator[None]:
    """Turn maturin-nox errors into session errors; engine debug logs only with nox -v."""
    logger = logging.getLogger("maturin_nox")
    level = logger.level
    # nox shows DEBUG records by default; ours (and twine's, forwarded) are noise there.
    logger.setLevel(logging.DEBUG if _global_option(session, "verbose") else logging.INFO)
    try:
        yield
    except MaturinNoxError as exc:
        _fail(session, exc.message)
    finally:
        logger.setLevel(level)


def _fail(session: nox.Session, message: str) -> NoReturn:
    """End the session with one sentence (nox adds the full stop)."""
    session.error(message.rstrip("."))


def _root(session: nox.Session, cfg: SessionConfig) -> Path:
    """The project folder (nox runs sessions from the noxfile's folder)."""
    return cfg.root(os.getcwd(), session.invoked_from)


def _specs(session: nox.Session, cfg: SessionConfig) -> Optional[List[str]]:
    """The interpreters asked for: nox's --force-python (-P) first, else the configured ones."""
    forced = session.python
    if isinstance(forced, str):
        return [forced]
    if isinstance(forced, (list, tuple)):
        return [str(p) for p in forced]
    return list(cfg.python) if cfg.python is not None else None


def _interpreters(session: nox.Session, specs: Sequence[str]) -> List[Interpreter]:
    """The listed interpreters that are installed; missing ones handled as nox does."""
    found: List[Interpreter] = []
    missing: List[str] = []
    for spec in specs:
        try:
            found.append(resolve(spec))
        except InterpreterError:
            missing.append(spec)
    if missing and (not found or _global_option(session, "error_on_missing_interpreters")):
        raise InterpreterNotFound(missing[0])
    for spec in missing:
        session.warn(f"Python {spec} is not installed; skipping it.")
    return found


def _label(interp: Interpreter) -> str:
    return f"{interp.implementation_name} {'.'.join(map(str, interp.version))}"


def _log_table(session: nox.Session, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    for line in format_table(headers, rows):
        session.log(line)


# --- build -------------------------------------------------------------------------


def _build_options(
    session: nox.Session, cfg: SessionConfig, root: Path, args: Optional[argparse.Namespace]
) -> BuildOptions:
    """The build session's options: the noxfile's as the base, the posargs' flags over them.

    Builds are reproducible unless the noxfile says ``reproducible=False``, with the
    last commit's time for the archives, so the publish gate can build them again
    from the sdist and compare them byte for byte.
    """
    from ..options import merge_options, options_from_args
    from ..publish import release_epoch

    base = BuildOptions(
        cwd=root,
        out_dir=cfg.wheels(root),
        target_dir=cfg.cargo_target_dir(root),
        release=cfg.release,
        reproducible=cfg.reproducible,
    )
    base = merge_options(base, cfg.build_options)
    if base.reproducible:
        base = base.replace(source_date_epoch=release_epoch(base))
    if not (args is not None and getattr(args, "interpreter", None)) and not base.interpreters:
        wanted = _specs(session, cfg)
        if wanted is not None:
            found = [str(i.executable) for i in _interpreters(session, wanted)]
            base = base.replace(interpreters=tuple(found))
        elif not (args is not None and getattr(args, "find_interpreter", False)):
            base = base.replace(find_interpreter=True)
    return options_from_args(args, base) if args is not None else base


def build(session: nox.Session, cfg: SessionConfig) -> None:
    """Build wheels for every configured interpreter (one abi3 wheel for abi3 crates).

    The noxfile's options are the base; a flag given after ``--`` always wins.
    """
    from ..builder import build as build_wheels
    from ..options import add_build_arguments

    with _reported(session):
        root = _root(session, cfg)
        parser = _parser(session)
        add_build_arguments(parser)
        parser.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=argparse.SUPPRESS,
            help="Do not print cargo output",
        )
        args = parser.parse_args(session.posargs)
        opts = _build_options(session, cfg, root, args)
        wheels = build_wheels(opts)
        session.log(f"Built {len(wheels)} wheel(s) in {opts.out_dir}:")
        for wheel in wheels:
            # the audit is recorded with the build, so the publish gate never misses it
            result = gate.audit_wheel(wheel.path)
            gate.record_audit(wheel.path.parent, result)
            session.log(f"  {wheel.path.name} (audit: {result.summary()})")


# --- sdist -------------------------------------------------------------------------


def sdist(session: nox.Session, cfg: SessionConfig) -> None:
    """Build the source distribution into the wheel folder."""
    from ..publish import release_epoch
    from ..sdist import build_sdist

    with _reported(session):
        root = _root(session, cfg)
        epoch = release_epoch(BuildOptions(cwd=root)) if cfg.reproducible else None
        path = build_sdist(cwd=root, out_dir=cfg.wheels(root), source_date_epoch=epoch)
        session.log(f"Built {path.name} in {path.parent}")


# --- develop -----------------------------------------------------------------------


def develop(session: nox.Session, cfg: SessionConfig) -> None:
    """Develop-install the project into a fresh environment and run a command there."""
    from .. import venv
    from ..dev_install import develop as develop_install
    from ..project import load_project

    with _reported(session):
        root = _root(session, cfg)
        wanted = _specs(session, cfg)
        # One environment, for the first interpreter asked for (pick with `nox -P 3.12`).
        interp = _interpreters(session, wanted)[0] if wanted else default()
        env_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", session.name)
        env = venv.create(interp, root / ".nox" / env_name, clear=True)
        project = load_project(cwd=root)
        extras = ["test"] if "test" in project.metadata.extras else []
        develop_install(
            cwd=root,
            env_path=env.path,
            extras=extras,
            target_dir=cfg.cargo_target_dir(root),
            release=cfg.release,
        )
        command = list(session.posargs) or list(cfg.test_command or ())
        if not command:
            folder = tests_folder(root)
            if folder is not None:
                command = ["python", "-m", "pytest", str(folder)]
                if not extras:
                    env.install("pytest")
            else:
                module = project.module_name.split(".")[0]
                modules = [module] if project.bindings.kind != "bin" else []
                command = list(smoke_command(modules, project.name))
        proc = env.run(command, cwd=root, check=False)
        if proc.returncode != 0:
            _fail(
                session, f"`{shlex.join(command)}` failed (exit {proc.returncode}) in {env.path}."
            )


# --- test --------------------------------------------------------------------------


def _wheels(session: nox.Session, cfg: SessionConfig, root: Path) -> List[Path]:
    """The wheels in the wheel folder; a session error when there are none."""
    folder = cfg.wheels(root)
    wheels, _ = gate.distributions(folder)
    if not wheels:
        _fail(session, f"There are no wheels in {folder}: run `nox -s {cfg.name('build')}` first.")
    return wheels


def test(session: nox.Session, cfg: SessionConfig) -> None:
    """Install each built wheel into a fresh env per interpreter and run the tests there."""
    with _reported(session):
        root = _root(session, cfg)
        wheels = _wheels(session, cfg, root)
        wanted = _specs(session, cfg)
        interps = _interpreters(session, wanted) if wanted is not None else find_all()
        command: Optional[List[str]] = list(session.posargs) or list(cfg.test_command or ()) or None
        rows: List[List[str]] = []
        failed = 0
        plans = sorted(plan_runs(wheels, interps), key=_plan_order)
        for plan in plans:
            if plan.interpreter is None:
                rows.append(["-", plan.wheel.name, "FAILED (no installed Python fits it)"])
                failed += 1
                continue
            result = run_wheel_tests(plan.wheel, plan.interpreter, root, command)
            gate.record_test(cfg.wheels(root), result)
            rows.append([_label(plan.interpreter), plan.wheel.name, result.summary()])
            failed += 0 if result.ok else 1
        _log_table(session, ["Interpreter", "Wheel", "Result"], rows)
        if failed:
            _fail(session, f"{failed} of {len(rows)} wheel test runs failed.")


def _plan_order(plan: TestPlan) -> Tuple[Tuple[int, ...], str]:
    """Rows by interpreter version, then wheel name."""
    version = tuple(plan.interpreter.version) if plan.interpreter else (99,)
    return version, plan.wheel.name


# --- audit -------------------------------------------------------------------------


def audit(session: nox.Session, cfg: SessionConfig) -> None:
    """Audit every built wheel (RECORD, metadata, manylinux/musllinux policy) and record it."""
    with _reported(session):
        root = _root(session, cfg)
        folder = cfg.wheels(root)
        rows: List[List[str]] = []
        failed: List[gate.AuditResult] = []
        for wheel in _wheels(session, cfg, root):
            result = gate.audit_wheel(wheel)
            gate.record_audit(folder, result)
            rows.append([wheel.name, result.summary()])
            for note in result.notes:
                session.warn(note)
            if not result.ok:
                failed.append(result)
        _log_table(session, ["Wheel", "Audit"], rows)
        for result in failed:
            for problem in result.problems:
                session.warn(problem)
        if failed:
            _fail(session, f"{len(failed)} of {len(rows)} wheels failed the audit.")


# --- publish -----------------------------------------------------------------------


def publish(session: nox.Session, cfg: SessionConfig) -> None:
    """Upload the wheel folder with twine, only if every row of the publish gate passed.

    Each wheel needs passing tests for its current bytes, an audit (made here when
    none is recorded), twine's metadata check, and to be what the sdist builds: the
    sdist (made here when the folder has none) is unpacked, the wheels are built
    from it with the build session's options, and each must match byte for byte.
    """
    from ..options import add_upload_arguments, repository_from_args
    from ..release import check_from_sdist
    from ..upload import Outcome, upload

    with _reported(session):
        root = _root(session, cfg)
        parser = _parser(session)
        add_upload_arguments(parser)
        parser.add_argument(
            "--skip-sdist-check",
            action="store_true",
            help="Do not build the wheels again from the sdist to compare them",
        )
        args = parser.parse_args(session.posargs)
        repository = repository_from_args(args)  # a missing secret fails before any build
        folder = cfg.wheels(root)
        wheels, sdists = gate.distributions(folder)
        release = None
        if wheels and not args.skip_sdist_check:
            from ..sdist import build_sdist

            opts = _build_options(session, cfg, root, None).replace(reproducible=True)
            if sdists:
                sdist_path = sdists[0]
            else:
                epoch = opts.source_date_epoch
                sdist_path = build_sdist(cwd=root, out_dir=folder, source_date_epoch=epoch)
                session.log(f"Built {sdist_path.name} in {folder}")
            release = check_from_sdist(wheels, sdist_path, opts)
        verdict = gate.evaluate(folder, release=release)
        if verdict.files:
            _log_table(session, gate.TABLE_HEADERS, verdict.table())
        if not verdict.ok:
            for problem in verdict.problems:
                session.warn(problem)
            _hint(session, cfg, verdict)
            blocked = verdict.failed()
            what = (
                f"{len(blocked)} of {len(verdict.files)} files did not pass the publish gate"
                if verdict.files
                else verdict.problems[0].rstrip(".")
            )
            _fail(session, f"Nothing was uploaded: {what}.")
        report = upload(
            verdict.paths, repository, skip_existing=args.skip_existing, dry_run=args.dry_run
        )
        for item in report.files:
            if item.outcome is Outcome.UPLOADED:
                session.log(f"Uploaded {item.path.name} to {repository.url}")
            elif item.outcome is Outcome.SKIPPED_EXISTING:
                session.log(f"Skipped {item.path.name}: it is already on {repository.url}")
            else:
                session.log(f"Would upload {item.path.name} to {repository.describe()}")


def _hint(session: nox.Session, cfg: SessionConfig, verdict: gate.Verdict) -> None:
    """Say which sessions would record what the gate misses."""
    needs = []
    if any(f.tests == "missing" for f in verdict.files):
        needs.append(f"`nox -s {cfg.name('test')}`")
    if needs:
        session.log(f"Run {' and '.join(needs)} on the current wheels before publishing.")
