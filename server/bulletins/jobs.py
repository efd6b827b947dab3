"""Rendering a bulletin's files as a job on the ``bulletins`` queue (in-process on the
embedded default), with its progress on the bulletin for the page to show; and the draft
of last month made by the workers' sweep once a month has ended."""

import logging
import shutil
import tempfile
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from .. import jobs
from ..evidence.storage import storage
from ..extensions import db
from ..models import Bulletin
from ..zone import bureau_today
from . import services
from .render import render

log = logging.getLogger(__name__)
KINDS = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def mark(bulletin: Bulletin) -> str:
    """What a render was made of: the content's sha256 (a draft's changes with it)."""
    return bulletin.content_sha256 or services.content_sha256(bulletin.content)


def fresh(bulletin: Bulletin) -> bool:
    """Whether the rendered files are of the bulletin as it is now."""
    renders = bulletin.renders or {}
    return renders.get("state") == "done" and renders.get("of") == mark(bulletin)


def queue_render(bulletin: Bulletin) -> str:
    """Ask for the files; the state is committed first so that any worker sees it."""
    bulletin.renders = {"state": "queued", "progress": 0, "of": mark(bulletin), "files": {}}
    db.session.commit()
    return jobs.enqueue("bulletins", render_bulletin, str(bulletin.id),
                        job_id=f"bulletin:{bulletin.id}:{mark(bulletin)[:16]}")


def _set(bulletin: Bulletin, **values):
    bulletin.renders = {**(bulletin.renders or {}), **values}
    db.session.commit()


def render_bulletin(bulletin_id: str):
    bulletin = db.session.get(Bulletin, uuid.UUID(bulletin_id))
    if bulletin is None:
        return
    made_of = mark(bulletin)
    folder = tempfile.mkdtemp(prefix="mingcha-bulletin-")
    try:
        _set(bulletin, state="rendering", progress=1, of=made_of)
        paths = render(bulletin, folder, lambda percent: _set(bulletin, progress=percent))
        store, files = storage(), {}
        for path in paths:
            key = f"bulletins/{bulletin.id}/{made_of[:16]}/{path.name}"
            with open(path, "rb") as f:
                store.save(key, f, overwrite=True)
            files[path.suffix[1:]] = key
        _set(bulletin, state="done", progress=100, files=files, error=None)
    except Exception as error:
        db.session.rollback()
        _set(db.session.get(Bulletin, bulletin.id), state="failed", error=str(error)[:500])
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def draft_last_month() -> Bulletin | None:
    """Once a month has ended, its draft exists: made here if nobody made it yet."""
    last = (bureau_today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    if services.latest(last) is not None:
        return None
    log.info("drafting the bulletin of %s", last)
    try:
        with db.session.begin_nested():  # another worker's sweep may draft it at once
            return services.compile_draft(last)
    except IntegrityError:
        return None
