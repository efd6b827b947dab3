"""Writes a bulletin's files: ``bulletin-YYYY-MM.pdf``, ``.docx`` and ``.xlsx`` (a
correction adds ``-2``, ``-3``… for its edition). Photos come from the evidence's derived
previews, re-encoded with no metadata."""

import uuid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from media.photo import clean_jpeg

from ..evidence.storage import storage
from ..extensions import db
from ..models import Bulletin, Evidence
from .render_docx import write_docx
from .render_pdf import write_pdf
from .render_xlsx import write_xlsx

# A photo is printed 80 mm wide: 800 px is 250 dpi, more than the page needs.
PHOTO_PX = 800


def file_stem(bulletin: Bulletin) -> str:
    edition = f"-{bulletin.edition}" if bulletin.edition > 1 else ""
    return f"bulletin-{bulletin.month}{edition}"


def bulletin_photos(content: dict) -> dict[str, bytes]:
    """Finding id → its photo for the bulletin: the preview, cleaned of all metadata."""
    wanted = {p["photo_id"]: p["finding_id"] for p in content["figures"]["problems"]
              if p.get("photo_id")}
    if not wanted:
        return {}
    store, photos = storage(), {}
    for evidence in db.session.scalars(sa.select(Evidence).where(
            Evidence.id.in_([uuid.UUID(i) for i in wanted]))):
        files = evidence.derivatives or {}
        key = (files.get("preview.jpg") or {}).get("key") or evidence.storage_key
        if key is None:
            continue
        with store.open(key) as f:
            photos[wanted[str(evidence.id)]] = clean_jpeg(f.read(), max_px=PHOTO_PX)
    return photos


def render(bulletin: Bulletin, folder, progress=lambda percent: None) -> list[Path]:
    """Writes the three files into ``folder``; ``progress(percent)`` is told as it goes."""
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
    write_pdf(content, written[0], issuer, photos, issued,
              current_app.config["BULLETIN_FANGSONG_FONT"])
    progress(70)
    write_docx(content, written[1], issuer, photos, issued)
    progress(90)
    write_xlsx(content, written[2])
    return written
