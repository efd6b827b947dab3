"""What a benchmark prints: its figures only, or with --verbose its progress and logs too."""

import logging
import sys


def log_levels(verbose: bool):
    """Alembic's progress lines, the app's line per request and the development server's
    at INFO with --verbose; otherwise WARNING: errors still show, nothing else."""
    level = logging.INFO if verbose else logging.WARNING
    for name in ("alembic", "mingcha.request", "werkzeug"):
        logging.getLogger(name).setLevel(level)


def progress(verbose: bool):
    """A function that prints a line of progress on stderr with --verbose, else nothing."""

    def say(text: str):
        if verbose:
            print(text, file=sys.stderr, flush=True)

    return say
