"""The app's media storage: local disk under MEDIA_ROOT or S3-compatible object storage."""

from flask import current_app

from media.storage import original_key, storage_from_url

__all__ = ["original_key", "storage"]


def storage():
    """The configured storage, made once per app."""
    ext = current_app.extensions
    if "media_storage" not in ext:
        ext["media_storage"] = storage_from_url(current_app.config["MEDIA_ROOT"])
    return ext["media_storage"]
