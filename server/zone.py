"""The bureau's time: its zone (``BABEL_DEFAULT_TIMEZONE``), today there, and its months
and weeks as instants. Every stage counts days and months this way."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def bureau_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def bureau_today() -> date:
    """Today in the bureau's time zone: deadlines are the bureau's days."""
    return datetime.now(bureau_zone()).date()


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of a YYYY-MM month in the bureau's time zone, and of the next."""
    zone = bureau_zone()
    year, number = (int(part) for part in month.split("-"))
    first = datetime(year, number, 1, tzinfo=zone)
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return first, after


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """Monday 00:00 of a week in the bureau's time zone, and of the week after."""
    start = datetime.combine(monday, datetime.min.time(), tzinfo=bureau_zone())
    return start, datetime.combine(monday + timedelta(days=7), datetime.min.time(),
                                   tzinfo=bureau_zone())
