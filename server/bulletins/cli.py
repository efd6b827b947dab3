"""`manage.py bulletin compile YYYY-MM [--correction]`, `manage.py bulletin publish
YYYY-MM` and `manage.py bulletin render YYYY-MM --out DIR`."""

import sys

import click
from flask.cli import with_appcontext

from ..cases.services import is_month
from ..errors import Problem
from ..extensions import db
from . import services
from .render import render


@click.group("bulletin")
def bulletin():
    """Monthly bulletins (月末通报)."""


def _month(month: str):
    if not is_month(month):
        click.echo(f"error: {month!r} is not a month such as 2026-11", err=True)
        sys.exit(2)


def _latest_or_fail(month: str):
    """MONTH's newest bulletin, or the command ends saying how to make one."""
    _month(month)
    found = services.latest(month)
    if found is None:
        click.echo(f"error: {month} has no bulletin: run `bulletin compile {month}` first",
                   err=True)
        sys.exit(1)
    return found


@bulletin.command("compile")
@click.argument("month")
@click.option("--correction", is_flag=True,
              help="the month is published: start a new edition to correct it")
@with_appcontext
def compile_(month, correction):
    """Make or refresh the draft bulletin of MONTH (YYYY-MM, in the bureau's time zone)."""
    _month(month)
    try:
        draft = services.compile_draft(month, correction=correction)
    except Problem as refused:
        click.echo(f"error: {refused.detail}", err=True)
        sys.exit(1)
    db.session.commit()
    h = draft.content["figures"]["headline"]
    click.echo(f"{draft.title}（草稿，{draft.content['number']}）: {h['checks']} checks, "
               f"{h['findings']} findings ({h['findings_major']} major), rectification rate "
               f"{h['rectification_rate']}%")


@bulletin.command("publish")
@click.argument("month")
@with_appcontext
def publish(month):
    """Publish MONTH's draft: frozen from now on, its sha256 in the audit chain."""
    draft = _latest_or_fail(month)
    try:
        services.publish(draft, actor=None)
    except Problem as refused:
        click.echo(f"error: {refused.detail}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"published {draft.content['number']} {draft.title}: sha256 {draft.content_sha256}")


@bulletin.command("render")
@click.argument("month")
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False),
              help="the folder to write the files into")
@with_appcontext
def render_(month, folder):
    """Write MONTH's newest bulletin as DIR/bulletin-YYYY-MM.pdf, .docx and .xlsx."""
    for path in render(_latest_or_fail(month), folder):
        click.echo(str(path))
