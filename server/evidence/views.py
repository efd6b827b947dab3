"""GET /api/v1/evidence/<id>, its original (with Range) and its derivatives."""

import re

from flask import Response, g, request, stream_with_context, url_for
from flask_babel import gettext as _

from media.storage import derivative_key

from ..api.records import to_data
from ..api.routing import ApiBlueprint
from ..audit.chain import record
from ..errors import Problem
from ..extensions import db
from ..models import Evidence
from ..roles import ALL
from ..visibility import visible_record
from .storage import storage

# The desk's pages show these files too: a signed-in browser may read them.
bp = ApiBlueprint("evidence", __name__, url_prefix="/api/v1/evidence", sessions=True)
MIMES = {".jpg": "image/jpeg", ".mp4": "video/mp4", ".m4a": "audio/mp4"}
DERIVATIVE = re.compile(r"^[a-z0-9_-]{1,32}\.(jpg|mp4|m4a)$")


def visible_evidence(evidence_id: str) -> Evidence:
    return visible_record(g.actor, Evidence, evidence_id, _("No such evidence."))


@bp.operation("/<evidence_id>", "GET", summary="An evidence record with its state and the "
              "URLs of its derived files", roles=ALL, tag="evidence",
              responses={200: "The record, as pulled, plus `urls`", 404: "Not yours or none"})
def show(evidence_id: str):
    """`state` tells whether the file arrived and was processed (`processing`, `ready`,
    `failed` with `failure`)."""
    return evidence_answer(visible_evidence(evidence_id))


def evidence_answer(evidence: Evidence) -> dict:
    """The record as pulled, plus the URLs of its files."""
    evidence_id = str(evidence.id)
    data = to_data(evidence)
    data["urls"] = {name: url_for("evidence.derivative", evidence_id=evidence_id, name=name)
                    for name in (evidence.derivatives or {})}
    if evidence.storage_key:
        data["urls"]["original"] = url_for("evidence.original", evidence_id=evidence_id)
    return data


def _range(size: int) -> tuple[int, int, int]:
    """(status, start, end) for the request's Range; 416 when it cannot be met."""
    wanted = request.range
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return 200, 0, size
    span = wanted.range_for_length(size)
    if span is None:
        raise Problem(416, _("Range not satisfiable"), _("The file has %(n)s bytes.", n=size),
                      headers={"Content-Range": f"bytes */{size}"})
    return 206, span[0], span[1]


def _send(key: str, mimetype: str) -> Response:
    store = storage()
    size = store.size(key)
    status, start, end = _range(size)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start),
               "Cache-Control": "private, max-age=3600"}
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    body = store.stream(key, start, end) if request.method != "HEAD" else iter(())
    return Response(stream_with_context(body), status=status, headers=headers,
                    mimetype=mimetype, direct_passthrough=True)


@bp.operation("/<evidence_id>/original", "GET", summary="The original file, as captured "
              "(Range supported)", roles=ALL, tag="evidence",
              responses={200: "The whole file", 206: "The requested range",
                         404: "Not yours, or not uploaded yet", 416: "Range not satisfiable"})
def original(evidence_id: str):
    """The bytes exactly as the phone sent them; their sha256 is the record's `sha256`.
    A unit contact gets only the originals it sent itself: the files of a check carry
    the phone's metadata (EXIF), and a unit sees those checks' derived files instead.
    Every read from the first byte is written to the audit trail."""
    evidence = visible_evidence(evidence_id)
    if g.actor.role == "unit" and evidence.created_by != g.actor.id:
        raise Problem(404, _("Not found"), _("No such evidence."))
    if not evidence.storage_key:
        raise Problem(404, _("Not uploaded yet"), _("The file of this evidence has not "
                                                    "arrived."))
    key = evidence.storage_key
    if request.method != "HEAD" and _range(storage().size(key))[1] == 0:
        db.session.commit()  # end the read: on SQLite the trail's write begins afresh
        record("original_viewed", actor=g.actor, subject_type="evidence",
               subject_id=evidence_id, detail={"range": request.headers.get("Range")})
        db.session.commit()
    return _send(key, "application/octet-stream")


@bp.operation("/<evidence_id>/files/<name>", "GET", summary="A derived file: thumbnail, "
              "preview or poster", roles=ALL, tag="evidence",
              responses={200: "The file", 206: "The requested range",
                         404: "No such derived file", 416: "Range not satisfiable"})
def derivative(evidence_id: str, name: str):
    """Names as listed in the record's `derivatives`."""
    evidence = visible_evidence(evidence_id)
    if not DERIVATIVE.match(name) or name not in (evidence.derivatives or {}):
        raise Problem(404, _("Not found"), _("No such derived file."))
    return _send(derivative_key(evidence.id, name), MIMES["." + name.rsplit(".", 1)[1]])
