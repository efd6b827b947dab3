"""`manage.py case package CASE_ID --out FILE.zip`, `manage.py verify-package FILE.zip` and
`manage.py cases escalate`."""

import contextlib
import os
import sys
import tempfile
import uuid

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Case
from . import services
from .package import write_package
from .package_check import examine_package


@click.group("case")
def case():
    """Cases of confirmed findings."""


@case.command("package")
@click.argument("case_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="the ZIP file to write")
@with_appcontext
def package(case_id, out):
    """Write the evidence package of a case: its originals and derived files, a manifest
    with each file's sha256 and the custody trail, and index.html to read it."""
    try:
        found = db.session.get(Case, uuid.UUID(case_id))
    except ValueError:
        _fail(f"{case_id!r} is not a case id (a UUID such as "
              "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b)")
    if found is None or found.deleted_at is not None:
        _fail(f"there is no case {case_id}")
    try:
        fd, partial = tempfile.mkstemp(prefix=".package-", suffix=".zip",
                                       dir=os.path.dirname(os.path.abspath(out)))
    except OSError as problem:
        _fail(f"cannot write {out}: {problem.strerror or problem}")
    try:
        packaged = _write_whole(found, fd, partial, out)
    except OSError as problem:  # the disk filled, storage could not be read…
        _fail(f"packaging failed, nothing was written to {out}: {problem}")
    for evidence_id in packaged.missing:
        click.echo(f"warning: evidence {evidence_id}: its file never arrived; the manifest "
                   "lists it as missing", err=True)
    for evidence_id in packaged.mismatched:
        click.echo(f"warning: evidence {evidence_id}: the stored file is not the one its "
                   "record names (sha256 differs); packaged as stored", err=True)
    click.echo(f"wrote {out}: {packaged.files} files, manifest sha256 "
               f"{packaged.manifest_sha256}")


def _write_whole(case_: Case, fd: int, partial: str, out: str):
    """Write to ``partial`` beside ``out`` and move it in once the audit event is
    committed: no half-written package ever has the name, and none is without its event."""
    try:
        with os.fdopen(fd, "wb") as f:
            packaged = write_package(case_, f)
        db.session.commit()
        os.replace(partial, out)
    except BaseException:
        db.session.rollback()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return packaged


@click.group("cases")
def cases():
    """All cases at once."""


@cases.command("escalate")
@with_appcontext
def escalate():
    """Mark cases whose deadline passed while the unit owed work, and tell the unit and
    the compilers (daily from cron; every worker also does it as it sweeps)."""
    marked = services.escalate()
    db.session.commit()
    click.echo(f"{marked} case(s) newly overdue")


@click.command("verify-package")
@click.argument("path", type=click.Path(dir_okay=False))
def verify_package(path):
    """Exit 0 when every file of the package is as its manifest lists it; else 1, naming
    each file changed, added or removed. Compare the printed manifest sha256 with the
    case_packaged event of the audit trail: a manifest rewritten to match would differ."""
    examined = examine_package(path)
    if examined.problems:
        for problem in examined.problems:
            click.echo(problem)
        click.echo(f"{path}: not intact ({len(examined.problems)} problems)", err=True)
        sys.exit(1)
    click.echo(f"intact: {examined.files} files, manifest sha256 "
               f"{examined.manifest_sha256}")


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
