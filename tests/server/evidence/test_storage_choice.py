"""MEDIA_ROOT chooses where evidence is stored: a folder, or S3-compatible storage."""

import uuid

import pytest

from media.storage import original_key
from server.evidence.storage import storage_from_url


def test_storage_from_url_picks_the_backend(tmp_path, s3_endpoint, bucket, monkeypatch):
    assert storage_from_url(str(tmp_path)).root == str(tmp_path)
    assert storage_from_url(f"file://{tmp_path}").root == str(tmp_path)
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    storage = storage_from_url(f"s3://{bucket}/mingcha?endpoint={s3_endpoint}&region=us-east-1")
    assert (storage.bucket, storage.prefix) == (bucket, "mingcha/")
    key = original_key(uuid.uuid4())
    with open(tmp_path / "photo", "w+b") as f:
        f.write(b"evidence bytes")
        f.seek(0)
        assert storage.save(key, f) == 14
    with storage.open(key) as f:
        assert f.read() == b"evidence bytes"


@pytest.mark.parametrize("url", ["s3:///prefix", "gs://bucket/x"])
def test_a_storage_url_without_bucket_or_with_unknown_scheme_is_refused(url):
    with pytest.raises(ValueError):
        storage_from_url(url)
