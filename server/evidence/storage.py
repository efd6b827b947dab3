"""The app's media storage, chosen by MEDIA_ROOT: a folder on local disk, or
``s3://bucket/prefix?endpoint=…`` for S3-compatible object storage."""

from urllib.parse import parse_qs, urlsplit

from flask import current_app

from media.storage import Storage
from media.storage_local import LocalStorage


def storage_from_url(url: str) -> Storage:
    """``s3://bucket/prefix?endpoint=http://host:9000`` → S3Storage; a path → LocalStorage."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from media.storage_s3 import S3Storage  # boto3 takes 0.2 s to import: only when used

        if not parts.netloc:
            raise ValueError(f"no bucket in {url!r}")
        query = parse_qs(parts.query)
        return S3Storage(parts.netloc, prefix=parts.path.strip("/"),
                         endpoint_url=query.get("endpoint", [None])[0],
                         region=query.get("region", [None])[0])
    if parts.scheme == "file":
        return LocalStorage(parts.path)
    if parts.scheme:  # a typo such as "s4://" must not become a directory named "s4:"
        raise ValueError(f"unknown storage scheme in {url!r}")
    return LocalStorage(url)


def storage() -> Storage:
    """The configured storage, made once per app."""
    ext = current_app.extensions
    if "media_storage" not in ext:
        ext["media_storage"] = storage_from_url(current_app.config["MEDIA_ROOT"])
    return ext["media_storage"]
