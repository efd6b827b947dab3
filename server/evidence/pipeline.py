"""From a stored original to what a reviewer can trust: what the file is, where and when
it was captured, derived files to look at, and whether it was taken at the site."""

import contextlib
import hashlib
import io
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from media import geo
from media.av import make_poster, make_preview, probe_av
from media.errors import MediaError
from media.phash import NEAR_DUPLICATE, distance
from media.photo import ingest_photo
from media.sniff import sniff_file
from media.storage import derivative_key
from media.storage_local import uncache

from ..extensions import db
from ..models import Check, Evidence
from .storage import storage

CHUNK = 1024 * 1024
CHECK_TIME_SLACK = timedelta(minutes=10)  # phones start a check a little after arriving
SCRATCH = "mingcha-media-"  # prefix of a job's temporary folder (derived files; an S3 original)


def process(evidence: Evidence):
    """Fill in ``media``, ``derivatives``, ``geofence`` and ``flags``; ready or failed."""
    store = storage()
    with tempfile.TemporaryDirectory(prefix=SCRATCH) as folder, \
            _original(store, evidence.storage_key, Path(folder)) as (path, sha256):
        if sha256 != evidence.sha256:
            # The record and its file met by the record's creator, who named this digest:
            # a stored file that differs is not the evidence the phone captured.
            evidence.state = "failed"
            evidence.failure = "The stored file does not match the record's sha256."
            return
        try:
            media, files = _examine(evidence, path, Path(folder))
        except MediaError as problem:
            evidence.state, evidence.failure = "failed", str(problem)[:2000]
            return
        evidence.derivatives = _store_files(store, evidence, files)
    evidence.media = media
    evidence.phash = media.pop("phash", None)
    _judge(evidence)
    evidence.state, evidence.failure = "ready", None


@contextlib.contextmanager
def _original(store, key: str, folder: Path) -> Iterator[tuple[Path, str]]:
    """The stored original as a file of this host, and its sha256: read in place where
    the store keeps its files here, else copied into ``folder`` (S3). In place, its pages
    leave the page cache when the job is done with it: it is rarely read again. (The
    copy cost fifty phones' 150 photos 0.4 s of their 21.2 s of job CPU in
    bench/load_bench.py, and wrote a gigabyte to /tmp.)"""
    local = store.local_path(key)
    if local is None:
        path = folder / "original"
        yield path, _copy(store, key, path)
        return
    with open(local, "rb") as f:
        sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        try:
            yield Path(local), sha256
        finally:
            uncache(f)


def _copy(store, key: str, path: Path) -> str:
    """Copy the stored original to ``path``; return its sha256."""
    digest = hashlib.sha256()
    with store.open(key) as src, open(path, "wb") as dst:
        while block := src.read(CHUNK):
            digest.update(block)
            dst.write(block)
    return digest.hexdigest()


def _examine(evidence: Evidence, path: Path, folder: Path) -> tuple[dict, dict]:
    """(media facts, derived files by name) — MediaError when the file is unusable."""
    found = sniff_file(path)
    if found is None:
        raise MediaError("The file is not a photo, audio or video format Mingcha accepts.")
    if "photo" in (found.kind, evidence.kind):
        if found.kind != evidence.kind:
            raise MediaError(f"The file is {found.kind} ({found.name}) but the record says "
                             f"{evidence.kind}.")
        return _photo(path)
    # A container such as WebM or MP4 holds sound alone as well as pictures (a browser's
    # MediaRecorder writes audio as WebM): its streams decide whether it is audio or video.
    info = probe_av(path)
    if info["kind"] != evidence.kind:
        raise MediaError(f"The file is {info['kind']} ({info['container']}) but the record "
                         f"says {evidence.kind}.")
    return _recording(path, folder, info)


def _photo(path: Path) -> tuple[dict, dict]:
    info = ingest_photo(path)
    sizes = info.pop("derivatives")
    files = {"thumb.jpg": sizes[min(sizes)], "preview.jpg": sizes[max(sizes)]}
    return info, files


def _recording(path: Path, folder: Path, info: dict) -> tuple[dict, dict]:
    kind = info["kind"]
    files = {}
    if kind == "video":
        make_poster(path, folder / "poster.jpg", duration_s=info.get("duration_s"))
        files["poster.jpg"] = folder / "poster.jpg"
    if not info.get("browser_playable"):
        name = "preview.mp4" if kind == "video" else "preview.m4a"
        make_preview(path, folder / name, kind, duration_s=info.get("duration_s"))
        files[name] = folder / name
    return info, files


def _store_files(store, evidence: Evidence, files: dict) -> dict:
    """Save derived files apart from the original; a re-run replaces them."""
    stored = {}
    for name, content in files.items():
        key = derivative_key(evidence.id, name)
        with open(content, "rb") if isinstance(content, Path) else io.BytesIO(content) as f:
            size = store.save(key, f, overwrite=True)
        stored[name] = {"key": key, "size": size}
    return stored


def _judge(evidence: Evidence):
    """Geofence verdict, capture time against the check, and near duplicates."""
    media = evidence.media or {}
    point = media.get("gps") or evidence.location
    site = evidence.check.site if evidence.check is not None else None
    verdict, distance = geo.geofence(point, site.lat if site else None,
                                     site.lon if site else None, site.radius_m if site else 0)
    evidence.geofence, evidence.distance_m = verdict, distance
    flags = []
    captured = _when(media.get("captured_at")) or evidence.captured_at
    check = evidence.check
    if captured is not None and check is not None and captured.tzinfo is not None:
        end = check.ended_at or check.started_at + timedelta(hours=12)
        if not check.started_at - CHECK_TIME_SLACK <= captured <= end + CHECK_TIME_SLACK:
            flags.append({"flag": "captured_outside_check",
                          "captured_at": captured.isoformat()})
    flags += _near_duplicates(evidence)
    evidence.flags = flags


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _near_duplicates(evidence: Evidence) -> list[dict]:
    """Photos of the same check or site whose perceptual hashes nearly match."""
    if not evidence.phash or evidence.check is None:
        return []
    same_site = db.select(Check.id).where(Check.site_id == evidence.check.site_id)
    others = db.session.execute(db.select(Evidence.id, Evidence.phash).where(
        Evidence.id != evidence.id, Evidence.phash.is_not(None),
        Evidence.check_id.in_(same_site))).all()
    return [{"flag": "near_duplicate", "evidence_id": str(other_id),
             "distance": distance(evidence.phash, other)}
            for other_id, other in others if distance(evidence.phash, other) <= NEAR_DUPLICATE]
