"""Publishing a project: build the wheels and the sdist, audit, check, and only then upload.

This is ``maturin publish`` as data flowing forward: :func:`build_distributions`
returns every file to upload, :func:`audit_wheels` (the publish gate's audit:
RECORD, names and tags, platform policy) refuses them as a whole when one wheel
fails, and :func:`publish` hands them to
:func:`maturin_nox.upload.upload`, which runs twine's metadata check on all of
them before the first byte goes out. A failed build, audit or check leaves the
index untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from .builder import BuiltWheel, build, open_project
from .errors import AuditError, UploadError
from .options import BuildOptions
from .upload import DEFAULT_REPOSITORY, TEST_REPOSITORY, Repository, UploadReport, upload
from .wheel import parse_wheel_filename

__all__ = [
    "Distributions",
    "PublishResult",
    "audit_wheels",
    "build_distributions",
    "publish",
    "publish_options",
    "refuse_plain_linux_on_pypi",
]

log = logging.getLogger("maturin_nox")

_PYPI_URLS = (DEFAULT_REPOSITORY, TEST_REPOSITORY)


@dataclass(frozen=True)
class Distributions:
    """The files one publish uploads: the wheels, then the sdist (if any)."""

    wheels: Tuple[BuiltWheel, ...]
    sdist: Optional[Path] = None

    def paths(self) -> List[Path]:
        """Every file, wheels first, in upload order."""
        return [w.path for w in self.wheels] + ([self.sdist] if self.sdist else [])


@dataclass(frozen=True)
class PublishResult:
    """What was built and what the upload did with it."""

    distributions: Distributions
    report: UploadReport


def publish_options(options: Optional[BuildOptions] = None) -> BuildOptions:
    """Options as ``maturin publish`` defaults them: release profile, stripped and deflated
    (maturin's level 6, even for a ``--debug`` build) unless asked otherwise."""
    opts = options or BuildOptions(release=True)
    if opts.strip is None:
        opts = opts.replace(strip=True)
    if opts.compression_method is None:
        opts = opts.replace(compression_method="deflated")
    return opts


def build_distributions(options: BuildOptions, *, sdist: bool = True) -> Distributions:
    """Build every wheel the options ask for and, unless ``sdist`` is false, the sdist."""
    if not options.release and options.profile in (None, "dev"):
        log.warning("You're publishing debug wheels.")
    project = open_project(options)  # cargo metadata once, for the wheels and the sdist
    wheels = build(options, project=project)
    sdist_path: Optional[Path] = None
    if sdist:
        from .sdist import build_sdist

        out_dir = options.out_dir or (wheels[0].path.parent if wheels else None)
        sdist_path = build_sdist(out_dir=out_dir, cwd=options.cwd, project=project)
    return Distributions(tuple(wheels), sdist_path)


def audit_wheels(paths: Sequence[Path]) -> None:
    """Audit every wheel as the publish gate does; raise AuditError naming the first that fails."""
    from .gate import audit_wheel

    for path in paths:
        result = audit_wheel(path)
        if not result.ok:
            reason = result.problems[0] if result.problems else f"{Path(path).name} failed."
            raise AuditError(f"Not uploading anything: {reason.rstrip('.')}.")
        log.debug("🔍 %s passed the audit: %s", Path(path).name, result.summary())
    log.info(f"🔍 {len(paths)} wheel(s) passed the audit")


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
) -> PublishResult:
    """Build, audit and check every distribution, then upload them all (or show where: dry run)."""
    opts = publish_options(options)
    dists = build_distributions(opts, sdist=sdist)
    paths = dists.paths()
    audit_wheels([p for p in paths if p.name.endswith(".whl")])
    refuse_plain_linux_on_pypi(paths, repository)
    report = upload(paths, repository, skip_existing=skip_existing, dry_run=dry_run)
    return PublishResult(dists, report)
