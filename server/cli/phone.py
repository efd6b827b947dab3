"""`python manage.py phone`: simulated phones syncing through a faulty network."""

import logging
import sys
from contextlib import contextmanager

import click

from ..serving import serving
from . import loaded_app

DEMO_ACCOUNTS = ["inspector1", "inspector2", *(f"jiandu{n:02}" for n in range(1, 11))]


@contextmanager
def _served():
    """The configured app on a free loopback port, for as long as the phones need it."""
    for name in ("werkzeug", "mingcha.request"):  # the report is the output
        logging.getLogger(name).setLevel(logging.WARNING)
    with serving(loaded_app()) as url:
        yield url


@click.command("phone")
@click.option("--url", help="a running Mingcha (default: serve the configured one here)")
@click.option("--phones", default=5, show_default=True, help="phones syncing at once")
@click.option("--checks", default=5, show_default=True, help="checks each phone records")
@click.option("--drop-requests", default=0.2, show_default=True,
              help="share of requests lost before they reach the server")
@click.option("--drop-responses", default=0.2, show_default=True,
              help="share of answers lost on the way back")
@click.option("--duplicate", default=0.05, show_default=True, help="share sent twice")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--account", "accounts", multiple=True, metavar="USER:PASSWORD",
              help="accounts the phones sign in as (default: the demo's field staff)")
@click.option("--password", default="mingcha-demo", show_default=True,
              help="password of the default demo accounts")
@click.option("--verbose", is_flag=True, help="list every record")
def phone(url, phones, checks, drop_requests, drop_responses, duplicate, seed, accounts,
          password, verbose):
    """Run simulated phones, then print what they sent, what the server holds and every
    difference. Exits 1 when there is any difference."""
    # The simulator and its HTTP client, only for this command (the web app imports this).
    from sync.errors import SyncError
    from sync.simulator import format_report, run

    pairs = [tuple(a.split(":", 1)) for a in accounts] or [(u, password) for u in
                                                            DEMO_ACCOUNTS]
    if any(len(p) != 2 for p in pairs):
        raise click.BadParameter("use USER:PASSWORD", param_hint="--account")

    def simulate(base):
        return run(base, pairs, phones=phones, checks_per_phone=checks,
                   drop_requests=drop_requests, drop_responses=drop_responses,
                   duplicate=duplicate, seed=seed)

    try:
        if url:
            report = simulate(url.rstrip("/"))
        else:
            with _served() as base:
                report = simulate(base)
    except SyncError as failure:  # e.g. a wrong password: say so, no trace
        raise click.ClickException(str(failure)) from None
    click.echo(format_report(report, verbose=verbose))
    sys.exit(1 if report.differences else 0)
