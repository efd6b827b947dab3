"""`python manage.py user …`: disable or enable a person, revoke their phones, set a
new password. Each ends the person's web sessions where it should."""

import sys

import click
from flask.cli import with_appcontext

from ..errors import Problem
from ..extensions import db
from ..models import User
from . import services


@click.group("user")
def user():
    """Disable, enable, revoke phones, set a password."""


def _find(username: str) -> User:
    found = db.session.scalar(db.select(User).where(User.username == username.strip()))
    if found is None:
        click.echo(f"error: no user is called {username}", err=True)
        sys.exit(2)
    return found


@user.command("disable")
@click.argument("username")
@with_appcontext
def disable(username):
    """Stop USERNAME signing in: sessions end, every phone's token is revoked."""
    revoked = services.disable(_find(username))
    db.session.commit()
    click.echo(f"disabled {username}; {revoked} device tokens revoked")


@user.command("enable")
@click.argument("username")
@with_appcontext
def enable(username):
    """Let USERNAME sign in again (with their password; phones sign in anew)."""
    services.enable(_find(username))
    db.session.commit()
    click.echo(f"enabled {username}")


@user.command("revoke-devices")
@click.argument("username")
@with_appcontext
def revoke_devices(username):
    """Sign every phone of USERNAME out (a lost phone); their web sessions stay."""
    revoked = services.revoke_devices(_find(username))
    db.session.commit()
    click.echo(f"{revoked} device tokens of {username} revoked")


@user.command("set-password")
@click.argument("username")
@click.option("--password", help="prompted for when absent")
@with_appcontext
def set_password(username, password):
    """Give USERNAME a new password; their web sessions end."""
    found = _find(username)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        services.set_password(found, password)
    except Problem as problem:
        click.echo(f"error: {problem.detail}", err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(f"password of {username} changed; their web sessions ended")
