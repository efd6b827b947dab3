"""A unit contact's rectification photos from the desk: the browser drives the phones' tus
endpoint over its session (with the page's CSRF token), then the page records the
evidence from the finished upload, and the media jobs make it ready."""

import hashlib
import io
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from server.errors import Problem
from server.evidence import jobs
from server.evidence.uploads import record_upload
from server.extensions import db
from server.models import Evidence, Upload, utcnow
from sync.tus import encode_metadata
from tests.server.evidence.test_evidence_pipeline import _photo, _upload
from tests.server.web.test_pages import _csrf, _sign_in

TUS = {"Tus-Resumable": "1.0.0"}
BYTES = {"Content-Type": "application/offset+octet-stream"}


def _jpeg(colour=(180, 90, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


class Browser:
    """A signed-in desk page's tus calls, as tus-js-client sends them."""

    def __init__(self, client, user):
        assert _sign_in(client, user.username).status_code == 302
        self.client, self.user = client, user
        self.csrf = {"X-CSRFToken": _csrf(client.get("/").get_data(as_text=True))}

    def create(self, data: bytes, rect, evidence_id=None, csrf=True):
        meta = {"evidence_id": str(evidence_id or uuid.uuid4()),
                "rectification_id": str(rect.id), "kind": "photo", "filename": "整改后.jpg",
                "filetype": "image/jpeg", "sha256": hashlib.sha256(data).hexdigest()}
        return self.client.post("/api/v1/uploads", headers=TUS | (self.csrf if csrf else {})
                                | {"Upload-Length": str(len(data)),
                                   "Upload-Metadata": encode_metadata(meta)})

    def patch(self, location: str, data: bytes, offset=0, csrf=True):
        return self.client.patch(location, data=data[offset:], headers=TUS | BYTES | {
            "Upload-Offset": str(offset)} | (self.csrf if csrf else {}))

    def upload(self, data: bytes, rect, evidence_id) -> str:
        created = self.create(data, rect, evidence_id)
        assert created.status_code == 201, created.get_data(as_text=True)
        location = _path(created)
        done = self.patch(location, data)
        assert done.status_code == 204, done.get_data(as_text=True)
        assert done.headers["Upload-Offset"] == str(len(data))
        return location


def _path(response) -> str:
    return "/" + response.headers["Location"].split("/", 3)[3]


def _record(user, evidence_id) -> Evidence:
    """What the desk page's route does: record, commit, then run the media jobs."""
    evidence = record_upload(user, evidence_id)
    db.session.commit()
    jobs.queue_pending()  # in-process: REDIS_URL is unset
    db.session.expire_all()
    return evidence


def _refused(user, evidence_id) -> int:
    with pytest.raises(Problem) as refused:
        record_upload(user, evidence_id)
    db.session.rollback()
    return refused.value.status


@pytest.fixture
def desk_case(make):
    """A notified case of unit A, A's contact and their rectification."""
    unit = make.unit()
    check = make.check(make.user("inspector"), make.site(unit))
    case = make.case(make.finding(check, published=True))
    contact = make.user("unit", unit=unit)
    return contact, make.rectification(case, contact)


def test_a_photo_uploaded_from_the_desk_becomes_ready_evidence_of_the_rectification(
        client, desk_case):
    contact, rect = desk_case
    browser, data, evidence_id = Browser(client, contact), _jpeg(), uuid.uuid4()
    location = browser.upload(data, rect, evidence_id)
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == str(len(data))
    evidence = _record(contact, evidence_id)
    assert evidence.state == "ready", evidence.failure
    assert set(evidence.derivatives) == {"thumb.jpg", "preview.jpg"}
    assert (evidence.media["width"], evidence.media["height"]) == (320, 240)
    assert (evidence.kind, evidence.size, evidence.filename) == ("photo", len(data), "整改后.jpg")
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.created_by == contact.id and evidence.rectification_id == rect.id
    again = _record(contact, str(evidence_id))  # the page posts the id as text
    assert again is evidence and again.state == "ready"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1
    shown = client.get(f"/api/v1/evidence/{evidence_id}")  # the session may read it too
    assert shown.status_code == 200 and shown.json["state"] == "ready"


def test_a_session_change_without_its_csrf_token_is_refused_and_changes_nothing(
        client, desk_case):
    contact, rect = desk_case
    browser, data = Browser(client, contact), _jpeg()
    refused = browser.create(data, rect, csrf=False)
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Upload)) == 0
    location = _path(browser.create(data, rect))
    for response in (
            browser.patch(location, data, csrf=False),
            client.post(location, data=data, headers=TUS | BYTES | {
                "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"}),
            client.delete(location, headers=TUS)):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
    head = client.head(location, headers=TUS)  # reading needs no token
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    options = client.options("/api/v1/uploads")
    assert options.status_code == 204 and options.headers["Tus-Version"] == "1.0.0"
    assert client.delete(location, headers=TUS | browser.csrf).status_code == 204
    assert client.head(location, headers=TUS).status_code == 404


def test_another_units_contact_can_neither_upload_for_the_rectification_nor_record_it(
        app, client, make, desk_case):
    contact, rect = desk_case
    stranger = make.user("unit")
    data, evidence_id = _jpeg(), uuid.uuid4()
    # The stranger uploads first under the same id, for a case of their own unit.
    own_case = make.case(make.finding(make.check(make.user("inspector"),
                                                 make.site(stranger.unit)), published=True))
    own_rect = make.rectification(own_case, stranger)
    intruder = Browser(app.test_client(), stranger)
    assert intruder.create(data, rect).status_code == 403
    intruder.upload(data, own_rect, evidence_id)
    Browser(client, contact).upload(data, rect, evidence_id)
    assert _record(contact, evidence_id).state == "ready"
    assert _refused(stranger, evidence_id) == 403  # the record is the contact's
    assert _refused(stranger, uuid.uuid4()) == 404  # no upload of theirs
    assert _refused(contact, "not-a-uuid") == 404
    evidence = db.session.get(Evidence, evidence_id)
    assert evidence.created_by == contact.id and evidence.rectification_id == rect.id


def test_an_upload_is_recorded_only_while_its_rectification_is_the_units(client, make,
                                                                         desk_case, uploader):
    contact, rect = desk_case
    browser, data, evidence_id = Browser(client, contact), _jpeg(), uuid.uuid4()
    location = _path(browser.create(data, rect, evidence_id))
    assert _refused(contact, evidence_id) == 404  # not finished yet
    assert browser.patch(location, data).status_code == 204
    rect.deleted_at = utcnow()
    db.session.commit()
    assert _refused(contact, evidence_id) == 403
    assert db.session.get(Evidence, evidence_id) is None
    up = uploader()  # a supervisor's phone: its evidence is pushed, not recorded here
    field_id = uuid.uuid4()
    _upload(up, _photo(up.check.started_at), field_id)
    assert _refused(up.user, field_id) == 403


def test_a_bearer_token_uploads_without_csrf_even_beside_a_session(app, client, desk_case,
                                                                    token_for):
    contact, rect = desk_case
    bearer = token_for(contact) | TUS
    Browser(client, contact)  # this client also carries a session cookie now
    phone = app.test_client()
    for caller in (phone, client):
        data = _jpeg(colour=(10, 200, 30) if caller is phone else (30, 10, 200))
        created = caller.post("/api/v1/uploads", headers=bearer | {
            "Upload-Length": str(len(data)), "Upload-Metadata": encode_metadata({
                "evidence_id": str(uuid.uuid4()), "rectification_id": str(rect.id),
                "kind": "photo", "sha256": hashlib.sha256(data).hexdigest()})})
        assert created.status_code == 201, created.get_data(as_text=True)
        done = caller.patch(_path(created), data=data, headers=bearer | BYTES | {
            "Upload-Offset": "0"})
        assert done.status_code == 204, done.get_data(as_text=True)


def test_a_session_chunk_may_exceed_the_json_body_limit(app, client, desk_case):
    """The CSRF check opens the body before the view; tus-js-client's 5 MiB chunks must
    not meet MAX_BODY_BYTES (set low here to show it)."""
    app.config["MAX_CONTENT_LENGTH"] = 1000
    contact, rect = desk_case
    data = _jpeg()
    assert len(data) > 1000
    Browser(client, contact).upload(data, rect, uuid.uuid4())
