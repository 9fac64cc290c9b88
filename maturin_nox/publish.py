"""Publishing a project: build the wheels and the sdist, judge them, and only then upload.

This is ``maturin publish`` as data flowing forward: :func:`build_distributions`
builds every file (reproducibly, one timestamp for all), :func:`judge` runs the
publish gate on them (:mod:`maturin_nox.gate`: the audit with abi3audit for
abi3 wheels, twine's metadata check, and every wheel built once more from the
sdist, byte for byte the same: :mod:`maturin_nox.release`), and
:func:`publish` uploads them all through :func:`maturin_nox.upload.upload`, or
nothing: a failed build or a row of the gate's table that did not pass leaves
the index untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from .builder import BuiltWheel, build, open_project
from .errors import UploadError
from .gate import Verdict
from .options import BuildOptions
from .upload import DEFAULT_REPOSITORY, TEST_REPOSITORY, Repository, UploadReport, upload
from .wheel import parse_wheel_filename

__all__ = [
    "Distributions",
    "PublishResult",
    "build_distributions",
    "judge",
    "publish",
    "publish_options",
    "refuse",
    "refuse_plain_linux_on_pypi",
    "release_epoch",
]

log = logging.getLogger("maturin_nox")

_PYPI_URLS = (DEFAULT_REPOSITORY, TEST_REPOSITORY)


@dataclass(frozen=True)
class Distributions:
    """The files one publish built: the wheels, then the sdist (uploaded unless --no-sdist)."""

    wheels: Tuple[BuiltWheel, ...]
    sdist: Optional[Path] = None
    uploads_sdist: bool = True
    source_date_epoch: Optional[int] = None  # the archives' timestamp, for rebuilding them

    def paths(self) -> List[Path]:
        """Every file to upload, wheels first, in upload order."""
        sdist = [self.sdist] if self.sdist and self.uploads_sdist else []
        return [w.path for w in self.wheels] + sdist


@dataclass(frozen=True)
class PublishResult:
    """What was built, what the gate found, and what the upload did with it."""

    distributions: Distributions
    report: UploadReport
    verdict: Optional[Verdict] = None


def publish_options(options: Optional[BuildOptions] = None) -> BuildOptions:
    """Options as ``maturin publish`` defaults them: release profile, stripped and deflated
    (maturin's level 6, even for a ``--debug`` build) unless asked otherwise."""
    opts = options or BuildOptions(release=True)
    if opts.strip is None:
        opts = opts.replace(strip=True)
    if opts.compression_method is None:
        opts = opts.replace(compression_method="deflated")
    return opts


def release_epoch(options: BuildOptions) -> Optional[int]:
    """The timestamp of a release's archives: as given, $SOURCE_DATE_EPOCH, the last commit's."""
    import os

    from .reproducible import last_commit_time

    if options.source_date_epoch is not None:
        return options.source_date_epoch
    raw = os.environ.get("SOURCE_DATE_EPOCH", "")
    if raw.isdigit():
        return int(raw)
    return last_commit_time((options.cwd or Path.cwd()).resolve())


def build_distributions(options: BuildOptions, *, sdist: bool = True) -> Distributions:
    """Build every wheel the options ask for and the sdist (kept out of the upload without ``sdist``).

    The builds are reproducible (see :mod:`maturin_nox.reproducible`), with one
    timestamp for the wheels and the sdist, so the wheels can be checked against
    what the sdist builds.
    """
    if not options.release and options.profile in (None, "dev"):
        log.warning("You're publishing debug wheels.")
    options = options.replace(reproducible=True, source_date_epoch=release_epoch(options))
    project = open_project(options)  # cargo metadata once, for the wheels and the sdist
    wheels = build(options, project=project)
    from .sdist import build_sdist

    out_dir = options.out_dir or (wheels[0].path.parent if wheels else None)
    sdist_path = build_sdist(
        out_dir=out_dir,
        cwd=options.cwd,
        project=project,
        source_date_epoch=options.source_date_epoch,
    )
    return Distributions(tuple(wheels), sdist_path, sdist, options.source_date_epoch)


def judge(
    dists: Distributions,
    options: BuildOptions,
    *,
    check_sdist: bool = True,
    require_tests: bool = False,
) -> Verdict:
    """The publish gate on what a publish built: audit, tests, twine check, and the sdist check.

    With ``check_sdist`` every wheel is built once more from the sdist and must come
    out byte for byte the same (:func:`maturin_nox.release.check_from_sdist`).
    """
    from .gate import evaluate
    from .release import check_from_sdist

    release = None
    wheels = [w.path for w in dists.wheels]
    if check_sdist and dists.sdist is not None and wheels:
        same = options.replace(source_date_epoch=dists.source_date_epoch)
        release = check_from_sdist(wheels, dists.sdist, same)
    folder = wheels[0].parent if wheels else (dists.sdist.parent if dists.sdist else Path.cwd())
    return evaluate(folder, release=release, require_tests=require_tests, files=dists.paths())


def refuse(verdict: Verdict) -> None:
    """Raise the gate's refusal as one sentence, naming the first file and reason."""
    blocked = verdict.failed()
    first = verdict.problems[0].rstrip(".") if verdict.problems else "nothing to publish"
    if verdict.files:
        raise UploadError(
            f"Nothing was uploaded: {len(blocked)} of {len(verdict.files)} files did not pass "
            f"the publish gate; {first}."
        )
    raise UploadError(f"Nothing was uploaded: {first}.")


def refuse_plain_linux_on_pypi(paths: Sequence[Path], repository: Repository) -> None:
    """PyPI rejects ``linux_*`` wheels: fail before the first upload rather than halfway."""
    if repository.url.rstrip("/") not in {u.rstrip("/") for u in _PYPI_URLS}:
        return
    for path in paths:
        if not path.name.endswith(".whl"):
            continue
        platforms = parse_wheel_filename(path.name).tag.split("-")[-1].split(".")
        if any(p.startswith("linux_") for p in platforms):
            raise UploadError(
                f"Not uploading anything: {path.name} has a plain linux platform tag, which "
                f"{repository.url} refuses; build with --compatibility pypi or a manylinux tag."
            )


def publish(
    repository: Repository,
    options: Optional[BuildOptions] = None,
    *,
    sdist: bool = True,
    skip_existing: bool = False,
    dry_run: bool = False,
    check_sdist: bool = True,
    show: Optional[Callable[[Verdict], None]] = None,
) -> PublishResult:
    """Build, judge (audit, twine check, wheels from the sdist), then upload them all, or nothing.

    ``show`` gets the gate's verdict (its table) before anything is uploaded; with
    ``dry_run`` nothing is uploaded at all.
    """
    opts = publish_options(options)
    dists = build_distributions(opts, sdist=sdist)
    verdict = judge(dists, opts.replace(reproducible=True), check_sdist=check_sdist)
    if show is not None:
        show(verdict)
    if not verdict.ok:
        refuse(verdict)
    paths = dists.paths()
    refuse_plain_linux_on_pypi(paths, repository)
    report = upload(paths, repository, skip_existing=skip_existing, dry_run=dry_run)
    return PublishResult(dists, report, verdict)
