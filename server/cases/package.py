"""The evidence package of a case: one ZIP holding every original and derived file, a
manifest naming each file's sha256 and the case's custody trail, and a page to read it.

Files are copied from storage a megabyte at a time, so a package of long videos takes no
more memory than one of photos. The manifest is the package's seal: ``package_check``
checks every file against it, and the audit event of the packaging keeps the manifest's
own sha256 in the hash chain: a manifest rewritten to match changed files no longer
matches that event. Nothing of the plan reaches the package: a covert check's plan stays secret.
"""

import hashlib
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import jinja2
import sqlalchemy as sa

from media.sniff import HEAD_SIZE, sniff
from media.storage import CHUNK, InvalidKey, NotFound, derivative_key

from ..audit.chain import body_of, record
from ..evidence.storage import storage
from ..extensions import db
from ..models import AuditEvent, AuditHead, Case, Evidence, Rectification, User, utcnow
from .package_check import MANIFEST

INDEX = "index.html"
THUMBNAILS = ("thumb.jpg", "poster.jpg")  # what the page shows for a photo, for a video
_EXTENSIONS = {"jpeg": "jpg"}  # where a format's usual extension is not its name


@dataclass
class Packaged:
    """What ``write_package`` wrote."""

    files: int  # listed in the manifest: everything but the manifest itself
    manifest_sha256: str
    missing: list[str]  # ids of evidence whose file never arrived
    mismatched: list[str]  # ids of evidence whose stored file is not the one recorded


def write_package(case: Case, out, *, actor=None) -> Packaged:
    """Write the package of ``case`` to ``out`` (a path or a writable binary file) and
    queue its audit event; the caller commits."""
    when = utcnow()
    finding = case.finding
    rectifications = _rectifications(case)
    files: dict[str, str] = {}
    with zipfile.ZipFile(out, "w") as zf:
        entries = [_pack(zf, evidence, of, files, when)
                   for evidence, of in _evidence_of(finding, rectifications)]
        manifest = _manifest(case, finding, rectifications, entries, when)
        page = _PAGE.render(_page_context(manifest)).encode()
        files[INDEX] = _write(zf, INDEX, [page], when)
        manifest["files"] = dict(sorted(files.items()))
        data = json.dumps(manifest, ensure_ascii=False, indent=2, default=_plain).encode()
        _write(zf, MANIFEST, [data], when)
    packaged = Packaged(len(files), hashlib.sha256(data).hexdigest(),
                        [e["id"] for e in entries if e["missing"]],
                        [e["id"] for e in entries if e["stored_sha256"]])
    record("case_packaged", actor=actor, subject=case,
           detail={"files": packaged.files, "manifest_sha256": packaged.manifest_sha256})
    return packaged


# --- What goes in -----------------------------------------------------------------------

def _rectifications(case: Case) -> list[Rectification]:
    return list(db.session.scalars(sa.select(Rectification).where(
        Rectification.case_id == case.id, Rectification.deleted_at.is_(None))
        .order_by(Rectification.created_at, Rectification.id)))


def _evidence_of(finding, rectifications) -> list[tuple[Evidence, str]]:
    """The finding's evidence (linked to it, or listed by it), then the rectifications',
    each with what it is evidence of. A rectification's ``evidence_ids`` are not
    followed: only evidence the unit could link to it is its own (``rules._link_evidence``)."""
    listed = set()
    for value in finding.evidence_ids or []:
        try:
            listed.add(uuid.UUID(str(value)))
        except ValueError:
            continue  # a phone's malformed id names no evidence
    found = db.session.scalars(sa.select(Evidence).where(sa.or_(
        Evidence.finding_id == finding.id, Evidence.id.in_(listed),
        Evidence.rectification_id.in_([r.id for r in rectifications])),
        Evidence.deleted_at.is_(None)))
    tagged = [(e, "finding" if e.finding_id == finding.id or e.id in listed
               else "rectification") for e in found]
    return sorted(tagged, key=lambda pair: (pair[1] != "finding", pair[0].created_at,
                                            pair[0].id))


def _pack(zf, evidence, of, files, when) -> dict:
    """Copy the evidence's files into the zip; return its manifest entry."""
    path, digest = _pack_original(zf, evidence, when)
    entry = _describe(evidence) | {"of": of, "original": path, "missing": path is None,
                                   "stored_sha256": None}
    if path is not None:
        files[path] = digest
        if digest != evidence.sha256:
            entry["stored_sha256"] = digest  # not the file the phone captured
    entry["derivatives"] = {}
    for name in sorted(evidence.derivatives or {}):
        derived = _pack_derivative(zf, evidence.id, name, when)
        if derived is not None:  # a lost derivative can be made again; an original cannot
            entry["derivatives"][name] = derived[0]
            files[derived[0]] = derived[1]
    return entry


def _pack_original(zf, evidence, when) -> tuple[str | None, str | None]:
    """(path in the zip, sha256 of the bytes copied); (None, None) without a stored file.
    The extension comes from the file's first bytes, never from the phone's filename."""
    store = storage()
    if not evidence.storage_key:
        return None, None
    try:
        size = store.size(evidence.storage_key)
        source = store.open(evidence.storage_key)
    except NotFound:
        return None, None
    with source:
        head = source.read(CHUNK)
        found = sniff(head[:HEAD_SIZE])
        extension = _EXTENSIONS.get(found.name, found.name) if found else "bin"
        path = f"originals/{evidence.id}.{extension}"
        rest = iter(lambda: source.read(CHUNK), b"")
        return path, _write(zf, path, _chain(head, rest), when, size=size)


def _pack_derivative(zf, evidence_id, name, when) -> tuple[str, str] | None:
    store = storage()
    try:
        key = derivative_key(evidence_id, name)
        size, chunks = store.size(key), store.stream(key)
    except (InvalidKey, NotFound):
        return None
    path = f"derivatives/{evidence_id}/{name}"
    return path, _write(zf, path, chunks, when, size=size)


def _chain(head: bytes, rest):
    yield head
    yield from rest


def _write(zf, path: str, chunks, when: datetime, *, size: int | None = None) -> str:
    """Stream ``chunks`` into the zip as ``path``; return their sha256. Media are stored
    as they are (they are compressed already); text is deflated."""
    info = zipfile.ZipInfo(path, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if size is None else zipfile.ZIP_STORED
    if size is not None:
        info.file_size = size  # zipfile chooses ZIP64 from it, before the first byte
    digest = hashlib.sha256()
    with zf.open(info, "w") as target:
        for chunk in chunks:
            digest.update(chunk)
            target.write(chunk)
    return digest.hexdigest()


# --- The manifest -----------------------------------------------------------------------

def _describe(evidence: Evidence) -> dict:
    return {"id": str(evidence.id), "kind": evidence.kind,
            "rectification_id": evidence.rectification_id, "sha256": evidence.sha256,
            "size": evidence.size, "filename": evidence.filename,
            "captured_at": evidence.captured_at, "location": evidence.location,
            "media": evidence.media, "geofence": evidence.geofence,
            "distance_m": evidence.distance_m, "flags": evidence.flags or [],
            "review_state": evidence.review_state, "review_note": evidence.review_note,
            "reviewed_by": str(evidence.reviewed_by) if evidence.reviewed_by else None,
            "reviewed_at": evidence.reviewed_at}


def _manifest(case, finding, rectifications, entries, when) -> dict:
    custody, head = _custody(case, finding, rectifications, entries)
    names = _names({e["reviewed_by"] for e in entries} | {e["actor_id"] for e in custody})
    for entry in entries:
        entry["reviewed_by"] = names.get(entry["reviewed_by"])
    for event in custody:
        event["actor"] = names.get(event["actor_id"])
    category = finding.category
    return {
        "format": "mingcha-evidence-package/1", "packaged_at": when,
        "case": {"id": case.id, "status": case.status, "unit": case.unit.name,
                 "leader": case.leader_name, "deadline": case.deadline,
                 "overdue": case.overdue},
        "finding": {"id": finding.id, "category": category.name_zh,
                    "category_code": category.code, "severity": finding.severity,
                    "description": finding.description, "site": finding.check.site.name},
        "rectifications": [{"id": r.id, "report": r.report, "submitted_at": r.submitted_at}
                           for r in rectifications],
        "evidence": entries,
        "custody": {"events": custody, "chain_head": head},
    }


def _custody(case, finding, rectifications, entries) -> tuple[list[dict], dict]:
    """The chain's events about the case and its records, each with the fields its hash
    covers (``audit.chain.body_of``), so a reader can recompute the links."""
    subjects = {"case": [case.id], "finding": [finding.id],
                "evidence": [e["id"] for e in entries],
                "rectification": [r.id for r in rectifications]}
    about = [sa.and_(AuditEvent.subject_type == kind,
                     AuditEvent.subject_id.in_([str(i) for i in ids]))
             for kind, ids in subjects.items() if ids]
    events = db.session.scalars(sa.select(AuditEvent).where(sa.or_(*about))
                                .order_by(AuditEvent.id))
    custody = [body_of(e.id, {"at": e.at, "actor_id": e.actor_id, "action": e.action,
                              "subject_type": e.subject_type, "subject_id": e.subject_id,
                              "detail": e.detail})
               | {"hash": e.hash, "prev_hash": e.prev_hash} for e in events]
    head = db.session.execute(sa.select(AuditHead.last_id, AuditHead.last_hash)
                              .where(AuditHead.id == 1)).first()
    return custody, {"id": head[0] if head else 0, "hash": (head[1] if head else "") or None}


def _names(ids: set) -> dict[str, str]:
    """User ids, as the manifest writes them, to names."""
    wanted = [uuid.UUID(i) for i in ids if i is not None]
    return {str(user_id): name for user_id, name in db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(wanted)))}


def _plain(value):
    """JSON for the values records hold."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- The page ---------------------------------------------------------------------------

LABELS = {
    "photo": "照片", "audio": "录音", "video": "视频",
    "general": "一般问题", "major": "重大问题",
    "inside": "围栏内", "outside": "围栏外", "unknown": "无法判断",
    "pending": "待审核", "accepted": "已采信", "needs_info": "需补充", "rejected": "不予采信",
    "open": "已立案", "notified": "已通知单位", "rectifying": "整改中",
    "submitted": "已报送整改", "verified": "已复查", "closed": "已销号", "reopened": "已重新打开",
}


def _page_context(manifest: dict) -> dict:
    """The manifest as the page shows it: plain JSON values, each evidence's thumbnail."""
    plain = json.loads(json.dumps(manifest, default=_plain))
    for entry in plain["evidence"]:
        entry["thumbnail"] = next((entry["derivatives"][n] for n in THUMBNAILS
                                   if n in entry["derivatives"]), None)
    return plain | {"label": lambda code: LABELS.get(code, code or "—"),
                    "as_json": lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)}


# Autoescaped: descriptions, notes and reports are what people typed. A page of its own,
# opened from the ZIP without the desk's styles, so its styles are inline.
_PAGE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined).get_template("cases/package_index.html")

