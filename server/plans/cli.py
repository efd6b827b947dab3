"""`manage.py plans redraw-check DRAW_ID`: draw again from the audit trail's record of a
draw and confirm the same result."""

import sys

import click
from flask.cli import with_appcontext

from ..visibility import as_uuid
from .draws import recheck


@click.group("plans")
def plans():
    """Plans and their fair random draws (双随机)."""


@plans.command("redraw-check")
@click.argument("draw_id")
@with_appcontext
def redraw_check(draw_id):
    """Recompute DRAW_ID from its audit entry (seed, pools, rules, history); exit 1 if the
    result differs from the one recorded."""
    ident = as_uuid(draw_id)
    if ident is None:
        click.echo(f"error: {draw_id!r} is not a draw id", err=True)
        sys.exit(2)
    same, said = recheck(ident)
    click.echo(("confirmed: " if same else "MISMATCH: ") + said, err=not same)
    sys.exit(0 if same else 1)
