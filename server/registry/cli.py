"""`python manage.py import-registry FILE...`: units, sites and people from CSV or XLSX."""

import sys
import unicodedata

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from .importer import ImportFailed, Outcome, import_tables, read_files
from .reader import Table


@click.command("import-registry")
@click.argument("files", nargs=-1, required=True)
@with_appcontext
def import_registry(files):
    """Import units, sites and people from CSV or XLSX files; on any error, nothing."""
    try:
        tables = read_files(list(files))
        outcome = import_tables(tables)
        db.session.commit()
    except ImportFailed as failed:
        db.session.rollback()
        _refuse(failed.errors)
    except SQLAlchemyError as exc:
        # Checked rows should not fail here; a record added meanwhile by someone else can.
        db.session.rollback()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        _refuse([_("the database refused the import: %(reason)s", reason=reason)])
    _note_ignored(tables)
    _report(outcome)


def _refuse(errors: list[str]):
    for error in errors:
        click.echo(error, err=True)
    click.echo(ngettext("Nothing was imported: %(num)d problem.",
                        "Nothing was imported: %(num)d problems.", len(errors)), err=True)
    sys.exit(2)


def _note_ignored(tables: list[Table]):
    """Unknown columns are skipped, but a misspelt header should not pass unnoticed."""
    for table in tables:
        if table.ignored:
            click.echo(f"{table.source}: " + _("ignored the columns %(columns)s.",
                                               columns=", ".join(table.ignored)), err=True)


def _report(outcome: Outcome):
    t = outcome.tallies
    lines = (
        _("units: %(c)d created, %(u)d updated, %(n)d unchanged", c=t["units"].created,
          u=t["units"].updated, n=t["units"].unchanged),
        _("sites: %(c)d created, %(u)d updated, %(n)d unchanged", c=t["sites"].created,
          u=t["sites"].updated, n=t["sites"].unchanged),
        _("people: %(c)d created, %(u)d updated, %(n)d unchanged", c=t["people"].created,
          u=t["people"].updated, n=t["people"].unchanged),
    )
    click.echo("\n".join(lines))
    if outcome.kept_passwords:
        click.echo(_("These people already existed; their passwords were not changed: "
                     "%(names)s.", names=", ".join(outcome.kept_passwords)))
    if outcome.credentials:
        _print_credentials(outcome.credentials)


def _print_credentials(credentials: list[tuple[str, str, str]]):
    """The made-up passwords, once: the database keeps only their hashes."""
    click.echo()
    click.echo(_("Passwords made up for new people. Hand each person theirs; "
                 "they are not shown again:"))
    rows = [(_("username"), _("name"), _("password")), *credentials]
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        line = "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True))
        click.echo(line.rstrip())


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
