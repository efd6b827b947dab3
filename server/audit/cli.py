"""`python manage.py audit verify`: walk the hash chain and say whether it is intact."""

import sys

import click
from flask.cli import with_appcontext

from ..extensions import db
from .chain import verify as verify_chain


@click.group("audit")
def audit():
    """The tamper-evident audit trail."""


@audit.command("verify")
@with_appcontext
def verify():
    """Exit 0 when every event is as it was appended; else 1, naming the first bad one.
    Keep the printed head somewhere else: a chain rewritten from the start would agree
    with itself, not with the head you kept."""
    verdict = verify_chain(db.session)
    if verdict.intact:
        click.echo(f"audit chain intact: {verdict.count} events, head {verdict.head or '-'}")
        return
    click.echo(f"audit chain broken: {verdict.problem} "
               f"({verdict.count} events verified before it)", err=True)
    sys.exit(1)
