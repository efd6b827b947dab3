"""The demo's last month, published: a newcomer finds a bulletin to read and download."""

from datetime import datetime, timedelta

from ..bulletins.jobs import queue_render
from ..bulletins.services import compile_draft, publish
from ..models import Bulletin, User
from ..zone import bureau_zone


def last_month(now: datetime) -> str:
    first = now.astimezone(bureau_zone()).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def publish_last_month(now: datetime, users: dict[str, User]) -> Bulletin:
    """Compiled and published by the demo's compiler (its files are made afterwards,
    once the demo is committed: see ``make_files``)."""
    compiler = next(u for u in users.values() if u.role == "compiler")
    bulletin = compile_draft(last_month(now), compiler)
    return publish(bulletin, compiler)


def make_files(bulletin: Bulletin) -> str:
    """The PDF, DOCX and XLSX: made now without Redis, queued for a worker with it."""
    return queue_render(bulletin)
