"""Mingcha's command line: `python manage.py --help`."""

from server import create_app
from server.cli.commands import cli_group

if __name__ == "__main__":
    cli_group(create_app)()
