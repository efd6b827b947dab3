"""Uploads: a signed-in phone with a check of its own, and files to send."""

import hashlib
import os
import uuid

import pytest

from tests.conftest import login


class Uploader:
    def __init__(self, client, user, check):
        answer = login(client, user.username).json
        self.client, self.user, self.check = client, user, check
        self.headers = {"Authorization": f"Bearer {answer['token']}",
                        "Tus-Resumable": "1.0.0"}

    def metadata(self, data: bytes, evidence_id=None, **extra) -> dict:
        from sync.tus import encode_metadata

        values = {"evidence_id": str(evidence_id or uuid.uuid4()),
                  "check_id": str(self.check.id), "kind": "photo", "filename": "IMG_0001.jpg",
                  "filetype": "image/jpeg", "sha256": hashlib.sha256(data).hexdigest()} | extra
        return {"Upload-Metadata": encode_metadata(values)}

    def create(self, data: bytes, evidence_id=None, status=201, **extra):
        response = self.client.post("/api/v1/uploads", headers=self.headers | {
            "Upload-Length": str(len(data))} | self.metadata(data, evidence_id, **extra))
        assert response.status_code == status, response.get_data(as_text=True)
        return response

    def patch(self, location, body: bytes, offset: int, status=204, headers=None):
        response = self.client.patch(location, data=body, headers=self.headers | {
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"} | (headers or {}))
        assert response.status_code == status, response.get_data(as_text=True)
        return response

    def head(self, location):
        return self.client.head(location, headers=self.headers)


@pytest.fixture
def uploader(client, make):
    """``uploader()`` signs in a supervisor with a check; ``uploader(user, check)`` too."""
    def make_uploader(user=None, check=None):
        user = user or make.user("supervisor")
        check = check or make.check(user, make.site())
        return Uploader(client, user, check)

    return make_uploader


@pytest.fixture
def blob():
    return os.urandom(300_000)
