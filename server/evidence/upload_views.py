"""/api/v1/uploads: tus 1.0.0 with creation, creation-with-upload, checksum, termination
and expiration, so any tus client (tus-js-client, TUSKit, tus-android-client, tuspy) works.
Phones send a bearer token; the desk's pages drive the same endpoint from a signed-in
browser, with the page's CSRF token in ``X-CSRFToken`` (server.access)."""

import re
import uuid
from email.utils import format_datetime

from flask import Response, current_app, g, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import ClientDisconnected

from sync import tus
from sync.vocabulary import EVIDENCE_KINDS

from ..access import PUBLIC
from ..api.routing import ApiBlueprint
from ..errors import Problem
from ..extensions import db
from ..models import Upload, utcnow
from ..roles import ALL
from . import body, jobs, staging, uploads

bp = ApiBlueprint("uploads", __name__, url_prefix="/api/v1/uploads", sessions=True)
SHA256 = re.compile(r"[0-9a-f]{64}")


@bp.after_request
def tus_headers(response: Response) -> Response:
    """Tus-Resumable on every answer; CORS that lets browsers read the tus headers. No
    Access-Control-Allow-Credentials: a session drives uploads from this site's pages only."""
    response.headers["Tus-Resumable"] = tus.VERSION
    response.headers["Access-Control-Allow-Origin"] = current_app.config["CORS_ORIGINS"]
    response.headers["Access-Control-Expose-Headers"] = ", ".join(tus.EXPOSED_HEADERS)
    return response


def _check_version():
    if request.headers.get("Tus-Resumable") != tus.VERSION:
        raise Problem(412, _("Unsupported tus version"),
                      _("Send Tus-Resumable: 1.0.0."), headers={"Tus-Version": tus.VERSION})


def _header_problem(error: tus.TusError) -> Problem:
    return Problem(400, _("Bad tus header"), str(error))


def _metadata() -> dict:
    try:
        raw = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    except tus.TusError as error:
        raise _header_problem(error) from None
    errors = []
    parsed = {"raw": raw}
    for key in ("evidence_id", "check_id", "rectification_id"):
        if raw.get(key):
            try:
                parsed[key] = uuid.UUID(raw[key])
            except ValueError:
                errors.append({"field": key, "message": _("Must be a UUID.")})
    if not raw.get("evidence_id"):  # absent, or a key without a value
        errors.append({"field": "evidence_id", "message": _("This field is required.")})
    if raw.get("kind") not in EVIDENCE_KINDS:
        errors.append({"field": "kind", "message": _("Must be photo, audio or video.")})
    if not SHA256.fullmatch(raw.get("sha256", "")):  # match's $ would take a trailing \n
        errors.append({"field": "sha256", "message": _("Must be the file's sha256 in hex.")})
    if errors:
        raise Problem(400, _("Bad Upload-Metadata"), _("Some metadata is missing or wrong; "
                      "see 'errors'."), errors=errors)
    return parsed | {"kind": raw["kind"], "sha256": raw["sha256"]}


def _expires(upload: Upload) -> dict:
    if upload.state == "complete":
        return {}
    return {"Upload-Expires": format_datetime(upload.expires_at, usegmt=True)}


def _find(upload_id: str) -> Upload:
    try:
        upload = db.session.get(Upload, uuid.UUID(upload_id))
    except ValueError:
        upload = None
    if upload is None or upload.user_id != g.actor.id:  # another's upload: not found
        raise Problem(404, _("Not found"), _("No such upload; create a new one."))
    if upload.state == "receiving" and upload.expires_at < utcnow():
        raise Problem(410, _("Upload expired"), _("This upload expired; create a new one."))
    if upload.state == "failed":
        raise Problem(410, _("Upload failed"), _("Nothing of this upload was kept: the file "
                      "did not match its sha256, or you had stored another file for this "
                      "evidence."))
    if upload.state == "receiving":
        have = staging.held(upload.id)
        if have is None and (upload.offset or staging.held_elsewhere(upload)):
            _recover(upload, 0)  # none of its bytes here, or a request elsewhere has them
        elif have is not None and have < upload.offset:
            _recover(upload, have)
    return upload


def _recover(upload: Upload, have: int):
    """This host holds fewer bytes than arrived (its staging file is gone, or another web
    host with its own UPLOAD_DIR received them): complete when they were stored already
    (the server died between storing and committing); else back to the bytes held here,
    so HEAD sends the phone back there. 410 while a request of another host holds the
    upload: behind a balancer that sends each upload to one host, this request came here
    because that host is gone (the phone makes a new upload)."""
    outcome = uploads.recover(upload, have)
    db.session.commit()
    if outcome == "lost" or upload.state == "failed":
        raise Problem(410, _("Upload lost"), _("The bytes of this upload are gone from the "
                      "server; create a new upload."))
    if outcome == "complete":
        jobs.queue_pending()


@bp.operation("", "OPTIONS", summary="What this tus server supports", roles=PUBLIC,
              tag="uploads", responses={204: "Tus-Version, Tus-Extension, Tus-Max-Size, "
                                        "Tus-Checksum-Algorithm"})
def options_root():
    """tus discovery, also the CORS preflight of browser clients."""
    return _options()


@bp.operation("/<upload_id>", "OPTIONS", summary="CORS preflight of an upload", roles=PUBLIC,
              tag="uploads", responses={204: "As for /uploads"})
def options_one(upload_id: str):
    """The same answer as for the collection."""
    return _options()


def _options() -> Response:
    return Response(status=204, headers={
        "Tus-Version": tus.VERSION, "Tus-Extension": ",".join(tus.EXTENSIONS),
        "Tus-Max-Size": str(current_app.config["TUS_MAX_SIZE"]),
        "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS),
        "Access-Control-Allow-Methods": "POST, HEAD, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": ", ".join(tus.REQUEST_HEADERS),
        "Access-Control-Max-Age": "86400"})


@bp.operation("", "POST", summary="Create an upload (optionally with its first bytes)",
              roles=ALL, tag="uploads", responses={
                  201: "Created; Location names the upload", 403: "Not your evidence",
                  409: "The evidence names another file, or you stored another file "
                       "for it", 412: "Not tus 1.0.0",
                  413: "Larger than Tus-Max-Size, or your uploads waiting for their "
                       "records hold too many bytes",
                  415: "First bytes not application/offset+octet-stream",
                  429: "Too many of your uploads wait for their records",
                  460: "First chunk failed its checksum"})
def create():
    """`Upload-Length` and `Upload-Metadata` with `evidence_id`, `check_id` (inspectors
    and supervisors: your own check), `rectification_id` (unit contacts: a rectification
    of your unit's case, until the evidence record links one), `kind`, `filename`,
    `filetype` and `sha256`. The same file again for the same evidence is answered with
    an upload that is already complete (`Upload-Offset` = length). Your bytes are kept
    for you alone: they become the evidence's file only if you made its record. At most
    `UPLOADS_WITHOUT_RECORD` uploads (and `UPLOAD_BYTES_WITHOUT_RECORD` bytes) of yours
    may wait for their records: push the records, then upload more."""
    _check_version()
    try:
        length = tus.parse_number(request.headers.get("Upload-Length"), "Upload-Length")
    except tus.TusError as error:
        raise _header_problem(error) from None
    if length > current_app.config["TUS_MAX_SIZE"]:
        raise Problem(413, _("File too large"), _("Files may be at most %(n)s bytes.",
                                                  n=current_app.config["TUS_MAX_SIZE"]))
    if request.content_length and request.mimetype != tus.OFFSET_TYPE:
        raise _not_offset_bytes()  # before anything is made of it
    upload = uploads.create(g.actor, length, _metadata())
    db.session.commit()
    headers = {"Location": url_for("uploads.head", upload_id=str(upload.id), _external=True)}
    if request.content_length and upload.state == "receiving":
        response = _patch(upload, 201)
        response.headers.update(headers)
        return response
    return Response(status=201, headers=headers | {"Upload-Offset": str(upload.offset)}
                    | _expires(upload))


@bp.operation("/<upload_id>", "HEAD", summary="How much of the upload arrived",
              roles=ALL, tag="uploads", responses={200: "Upload-Offset, Upload-Length",
                                                   404: "No such upload", 410: "Expired",
                                                   412: "Not tus 1.0.0"})
def head(upload_id: str):
    """Resume from `Upload-Offset`."""
    _check_version()
    upload = _find(upload_id)
    return Response(status=200, headers={
        "Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
        "Upload-Metadata": tus.encode_metadata(upload.metadata_), "Cache-Control": "no-store",
        **_expires(upload)})


@bp.operation("/<upload_id>", "PATCH", summary="Append bytes at Upload-Offset", roles=ALL,
              tag="uploads", responses={
                  204: "Stored; Upload-Offset is the new offset",
                  409: "Wrong offset; or, on the last byte, you stored another file for "
                       "this evidence (nothing kept)", 410: "Expired, or failed",
                  412: "Not tus 1.0.0",
                  415: "Not application/offset+octet-stream", 423: "Another request writes",
                  460: "Checksum mismatch (chunk discarded, or the whole file on the last "
                       "byte: nothing kept)"})
def patch(upload_id: str):
    """Send the bytes from `Upload-Offset` with an optional `Upload-Checksum`."""
    _check_version()
    return _patch(_find(upload_id), 204)


@bp.operation("/<upload_id>", "POST", summary="PATCH or DELETE for clients that can only "
              "POST (X-HTTP-Method-Override)", roles=ALL, tag="uploads",
              responses={204: "As PATCH or DELETE", 400: "No override", 409: "As PATCH",
                         410: "As PATCH or DELETE", 412: "Not tus 1.0.0", 415: "As PATCH",
                         423: "As PATCH or DELETE", 460: "As PATCH"})
def override(upload_id: str):
    """tus-js-client's overridePatchMethod and similar."""
    method = request.headers.get("X-HTTP-Method-Override", "").upper()
    if method == "PATCH":
        return patch(upload_id=upload_id)
    if method == "DELETE":
        return terminate(upload_id=upload_id)
    raise Problem(400, _("Bad request"), _("Use PATCH or DELETE (or X-HTTP-Method-Override)."))


def _patch(upload: Upload, status: int) -> Response:
    if request.mimetype != tus.OFFSET_TYPE:
        raise _not_offset_bytes()
    try:
        offset = tus.parse_number(request.headers.get("Upload-Offset", "0" if status == 201
                                                      else None), "Upload-Offset")
        checksum = tus.parse_checksum(request.headers.get("Upload-Checksum"))
    except tus.TusError as error:
        raise _header_problem(error) from None
    if upload.state == "complete":
        return Response(status=status, headers={"Upload-Offset": str(upload.offset)})
    if offset != upload.offset:
        raise _wrong_offset(upload.offset)
    return _write(upload, offset, checksum, status)


def _reader():
    """``read(n)`` for the request's body. When the server ends the body itself (gunicorn
    sets wsgi.input_terminated), straight from it: Werkzeug's limiting wrapper copies
    every byte twice more (1.7x the CPU of an upload, measured with bench/tus_bench.py),
    and under gunicorn from its socket (``body``). append never reads past the length."""
    environ = request.environ
    if environ.get("wsgi.input_terminated"):
        return body.socket_reader(environ["wsgi.input"]) or environ["wsgi.input"].read
    return _read


def _read(n: int) -> bytes:
    try:
        return request.stream.read(n)
    except ClientDisconnected as gone:
        raise OSError("client disconnected") from gone


def _write(upload: Upload, offset: int, checksum, status: int) -> Response:
    # Streamed to disk, never held: only Tus-Max-Size limits it (None would mean "the
    # app's MAX_CONTENT_LENGTH" to Flask).
    request.max_content_length = current_app.config["TUS_MAX_SIZE"]
    upload_id, expires = upload.id, _expires(upload)  # a PATCH does not move its expiry
    # Kept as read, out of the session: stream with no transaction open (SQLite's one
    # write lock, and a PostgreSQL connection, must not be held while a phone sends).
    db.session.expunge(upload)
    token, claimed_at = staging.take_lease(upload)
    settled = False
    try:
        if claimed_at != offset:  # it moved while we waited for the lease
            raise _wrong_offset(claimed_at)
        offset, broken = staging.append(upload, token, _reader(), checksum)
        if offset < upload.length:
            staging.settle(upload_id, token, offset)
            settled, outcome = True, None
        else:
            upload = db.session.get(Upload, upload_id)
            upload.offset, upload.lease, upload.lease_until = offset, None, None
            outcome = uploads.finish(upload)
            db.session.commit()
            settled, expires = True, {}
    finally:
        if not settled:
            db.session.rollback()
            staging.release_lease(upload_id, token)
    if outcome == "mismatch":
        raise Problem(460, _("Checksum mismatch"), _("The file's sha256 differs from the "
                      "metadata; nothing of it was kept. Upload it again."))
    if outcome == "taken":
        raise Problem(409, _("Different file"), _("You already stored another file for this "
                      "evidence; nothing of this one was kept."))
    if outcome == "complete":
        jobs.queue_pending()
    if broken:
        raise Problem(400, _("Connection broken"), _("The body ended early; HEAD the upload "
                      "and resume."))
    return Response(status=status, headers={"Upload-Offset": str(offset)} | expires)


def _not_offset_bytes() -> Problem:
    return Problem(415, _("Unsupported content type"),
                   _("Send the bytes as application/offset+octet-stream."))


def _wrong_offset(at: int) -> Problem:
    return Problem(409, _("Wrong offset"), _("The upload is at offset %(n)s; HEAD it and "
                   "send from there.", n=at))


@bp.operation("/<upload_id>", "DELETE", summary="Terminate an upload", roles=ALL,
              tag="uploads", responses={204: "Gone; a stored original stays (write-once)",
                                        410: "Expired, or failed", 412: "Not tus 1.0.0",
                                        423: "Another request writes"})
def terminate(upload_id: str):
    """Stop an upload and free its space."""
    _check_version()
    upload = _find(upload_id)
    token, _offset = staging.take_lease(upload)
    uploads.terminate(db.session.get(Upload, upload.id))
    db.session.commit()
    del token  # the row, and its lease, are gone
    return Response(status=204)
