"""Writes a bulletin's files: ``bulletin-YYYY-MM.pdf``, ``.docx`` and ``.xlsx`` (a
correction adds ``-2``, ``-3``… for its edition). Photos come from the evidence's derived
previews, re-encoded with no metadata.

A busy month keeps a host's cores busy: the photos are re-encoded on threads (Pillow lets
go of the GIL while it decodes and encodes), and the Word document is written by a
process of its own while this one lays out the PDF (both are bound by Python;
bench/bulletin_bench.py measures it)."""

import contextlib
import multiprocessing
import os
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from media.photo import clean_jpeg

from ..evidence.storage import storage
from ..extensions import db
from ..models import Bulletin, Evidence
from .render_xlsx import write_xlsx

# A photo is printed at most 75 mm wide: 800 px is 270 dpi, more than the page needs.
PHOTO_PX = 800
# Problems from which the DOCX is written in a second process while the PDF is laid out.
SECOND_PROCESS_FROM = 200


def file_stem(bulletin: Bulletin) -> str:
    edition = f"-{bulletin.edition}" if bulletin.edition > 1 else ""
    return f"bulletin-{bulletin.month}{edition}"


def bulletin_photos(content: dict) -> dict[str, bytes]:
    """Finding id → its photo for the bulletin: the preview, cleaned of all metadata."""
    wanted = {p["photo_id"]: p["finding_id"] for p in content["figures"]["problems"]
              if p.get("photo_id")}
    if not wanted:
        return {}
    keys = {}
    for evidence in db.session.scalars(sa.select(Evidence).where(
            Evidence.id.in_([uuid.UUID(i) for i in wanted]))):
        files = evidence.derivatives or {}
        key = (files.get("preview.jpg") or {}).get("key") or evidence.storage_key
        if key is not None:
            keys[wanted[str(evidence.id)]] = key
    store = storage()

    def clean(key: str) -> bytes:
        with store.open(key) as f:
            return clean_jpeg(f.read(), max_px=PHOTO_PX)

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return dict(zip(keys, pool.map(clean, keys.values()), strict=True))


def render(bulletin: Bulletin, folder, progress=lambda percent: None,
           second_process: bool | None = None) -> list[Path]:
    """Writes the three files into ``folder``; ``progress(percent)`` is told as it goes.
    The Word document is written by a second process when the month is large enough to
    repay the second interpreter's start (about a second), or when ``second_process``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / file_stem(bulletin)
    content = bulletin.content
    written = [stem.with_suffix(suffix) for suffix in (".pdf", ".docx", ".xlsx")]
    issued = (bulletin.published_at or bulletin.updated_at).date()
    issuer = current_app.config["BULLETIN_ISSUER"]
    progress(5)
    photos = bulletin_photos(content)
    progress(25)
    if second_process is None:
        second_process = len(content["figures"]["problems"]) >= SECOND_PROCESS_FROM
    docx_args = (content, written[1], issuer, photos, issued)
    # Loaded here, on the first bulletin a process renders: WeasyPrint and matplotlib
    # take 1.3 s of CPU to import, which every web worker paid at its start (and a host
    # restarted after a crash pays again) though few ever render a bulletin.
    from .render_docx import write_docx
    from .render_pdf import write_pdf
    with contextlib.ExitStack() as stack:
        docx = None
        if second_process:  # "spawn", not fork: the caller may be a threaded web server
            other = stack.enter_context(ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn")))
            docx = other.submit(write_docx, *docx_args)
        write_pdf(content, written[0], issuer, photos, issued,
                  current_app.config["BULLETIN_FANGSONG_FONT"])
        progress(70)
        write_xlsx(content, written[2])
        progress(75)
        if docx is None:
            write_docx(*docx_args)
        else:
            docx.result()
    return written
