"""`manage.py bulletin compile YYYY-MM`."""

import sys

import click
from flask.cli import with_appcontext

from ..cases.services import is_month
from ..errors import Problem
from ..extensions import db
from .services import compile_draft


@click.group("bulletin")
def bulletin():
    """Monthly bulletins (月末通报)."""


@bulletin.command("compile")
@click.argument("month")
@with_appcontext
def compile_(month):
    """Make or refresh the draft bulletin of MONTH (YYYY-MM, in the bureau's time zone)."""
    if not is_month(month):
        click.echo(f"error: {month!r} is not a month such as 2026-11", err=True)
        sys.exit(2)
    try:
        draft = compile_draft(month)
    except Problem as refused:
        click.echo(f"error: {refused.detail}", err=True)
        sys.exit(1)
    db.session.commit()
    h = draft.content["figures"]["headline"]
    click.echo(f"{draft.title}（草稿）: {h['checks']} checks, {h['findings']} findings "
               f"({h['findings_major']} major), rectification rate {h['rectification_rate']}%")
