"""Mingcha's command line: `python manage.py --help`."""

from server.cli.commands import cli_group

if __name__ == "__main__":
    cli_group()()
