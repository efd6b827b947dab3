"""The lease of an upload: renewed by time while bytes arrive, and a request that lost it
writes nothing more."""

import io
import uuid

import pytest

from server.errors import Problem
from server.evidence import staging
from server.extensions import db
from server.models import Upload


def _upload(location: str) -> Upload:
    return db.session.get(Upload, uuid.UUID(location.rsplit("/", 1)[1]))


def test_an_upload_that_renews_its_lease_on_every_chunk_completes(uploader, monkeypatch):
    monkeypatch.setattr(staging, "RENEW_AFTER", 0)  # as if the phone were very slow
    monkeypatch.setattr(staging, "CHUNK", 64 * 1024)
    data = bytes(range(256)) * 1200
    up = uploader()
    location = up.create(data).headers["Location"]
    done = up.patch(location, data, 0)
    assert done.headers["Upload-Offset"] == str(len(data))


def test_a_request_that_stalled_past_its_lease_writes_nothing(uploader, blob, monkeypatch):
    up = uploader()
    upload = _upload(up.create(blob).headers["Location"])
    stale, _offset = staging.take_lease(upload)
    # Its lease ran out while the phone's bytes stalled, and the phone's retry took over.
    db.session.execute(db.update(Upload).where(Upload.id == upload.id)
                       .values(lease="the-retry"))
    db.session.commit()
    monkeypatch.setattr(staging, "RENEW_AFTER", 0)
    with pytest.raises(Problem) as refused:
        staging.append(upload, stale, io.BytesIO(blob).read, None)
    assert refused.value.status == 409
    assert staging.staging_path(upload.id).stat().st_size == 0


def test_a_request_that_lost_its_lease_commits_no_offset(uploader, blob):
    up = uploader()
    location = up.create(blob).headers["Location"]
    upload = _upload(location)
    stale, at = staging.take_lease(upload)
    assert at == 0
    db.session.execute(db.update(Upload).where(Upload.id == upload.id)
                       .values(lease="the-retry"))
    db.session.commit()
    with pytest.raises(Problem) as refused:
        staging.settle(upload.id, stale, 1000)
    assert refused.value.status == 409
    db.session.expire_all()
    assert (upload.offset, upload.lease) == (0, "the-retry")  # the retry's, untouched


def test_a_patch_ends_its_lease_with_its_offset(uploader, blob):
    up = uploader()
    location = up.create(blob).headers["Location"]
    up.patch(location, blob[:1000], 0)
    upload = _upload(location)
    assert (upload.offset, upload.lease, upload.lease_holder) == (1000, None, None)
    assert up.head(location).headers["Upload-Offset"] == "1000"
    up.patch(location, blob[1000:], 1000)  # the next request takes the lease at once
