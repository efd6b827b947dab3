"""The command line (``manage.py``): Flask CLI commands grouped by what they touch."""

import click
from flask.cli import ScriptInfo


def loaded_app():
    """The app this command line runs (``manage.py`` hands ``create_app`` to the group)."""
    return click.get_current_context().ensure_object(ScriptInfo).load_app()
