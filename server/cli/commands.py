"""The command line: `python manage.py COMMAND` (a Flask CLI group)."""

import sys

import click
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from .. import jobs
from ..audit.cli import audit
from ..auth.cli import user
from ..auth.services import purge_login_failures
from ..bulletins.cli import bulletin
from ..cases.cli import case, cases, verify_package
from ..demo.cli import demo
from ..errors import Problem
from ..evidence.jobs import requeue as requeue_media
from ..evidence.uploads import purge_expired
from ..extensions import db
from ..plans.cli import plans
from ..registry.cli import import_registry
from ..registry.services import create_user as add_user
from ..registry.services import seed_categories
from ..roles import ROLES
from ..worker import processes_by_default
from ..worker import run_many as run_workers
from . import loaded_app
from .phone import phone


def _fail(problem: Problem):
    click.echo(f"error: {problem.detail}", err=True)
    sys.exit(2)


@click.command("init-db")
@with_appcontext
def init_db():
    """Apply migrations and add the default finding categories."""
    upgrade()
    added = seed_categories()
    db.session.commit()
    click.echo(f"database ready at {db.engine.url.render_as_string(hide_password=True)}; "
               f"{added} categories added")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True,
              help=", ".join(ROLES))
@click.option("--unit", "unit_code", help="code of the user's unit (required for role unit)")
@click.option("--name", help="the person's name as others read it")
@click.option("--password", help="prompted for when absent")
@with_appcontext
def create_user(username, role, unit_code, name, password):
    """Create a user who can sign in on the web and on phones."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = add_user(username, role, password, name=name, unit_code=unit_code)
    except Problem as problem:
        db.session.rollback()
        _fail(problem)
    db.session.commit()
    click.echo(f"created {user.username} ({user.role})")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host, port):
    """Serve with the development server (use gunicorn in production)."""
    from werkzeug.serving import run_simple

    # Not app.run(): Flask ignores it inside its own command line.
    run_simple(host, port, loaded_app(), threaded=True)


@click.command("worker")
@click.option("--queue", "queues", multiple=True, help="queues to work (default: all)")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@click.option("--processes", type=click.IntRange(1, 256), default=None,
              help="worker processes (default: one per core of this host and one more; one "
                   "on SQLite)")
def worker(queues, burst, processes):
    """Run rq workers on the media, bulletins and default queues: one per core, and one
    more."""
    app = loaded_app()
    run_workers(app, queues or jobs.QUEUES, processes or processes_by_default(app),
                burst=burst)



@click.command("housekeeping")
@with_appcontext
def housekeeping():
    """Queue the periodic clean-up (run it from cron or a timer)."""
    for name, job in (("login-failures", purge_login_failures),
                      ("expired-uploads", purge_expired)):
        outcome = jobs.enqueue("default", job, job_id=f"housekeeping:{name}")
        click.echo(f"housekeeping {name}: {outcome}")


@click.command("requeue")
@with_appcontext
def requeue():
    """Queue media jobs for evidence waiting in the database (workers do this too)."""
    click.echo(f"queued {requeue_media()} media jobs")


def init_app(app):
    for command in (init_db, create_user, user, housekeeping, requeue, import_registry, demo,
                    phone, audit, bulletin, case, cases, verify_package, plans):
        app.cli.add_command(command)


def cli_group(create_app):
    """The command line of the app ``create_app`` makes."""
    group = FlaskGroup(create_app=create_app, add_default_commands=False,
                       help="Mingcha (明察) command line.")
    group.add_command(serve)
    group.add_command(worker)
    return group
