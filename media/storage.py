"""Where evidence bytes live: the storage interface and its keys.

Keys are built here from evidence ids, never from a client's filename. Originals are
write-once; derivatives (thumbnails, previews) live under their own prefix and may be
rebuilt. Backends: ``LocalStorage`` (media/storage_local.py) and ``S3Storage``
(media/storage_s3.py, any S3-compatible object store); the application chooses one.
"""

import abc
import re
import uuid
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1024 * 1024  # bytes per read and per yielded piece: small enough to keep memory flat
ORIGINALS = "originals/"
DERIVATIVES = "derivatives/"
MAX_KEY = 255  # the width of evidence.storage_key

# The only derivative names a job may write: kind, optional pixel size, known extension.
DERIVATIVE_NAME = re.compile(r"(thumb|preview|poster)(-[1-9][0-9]{1,3})?\.(jpg|webp|mp4|m4a)")
# A segment starts with a letter or digit, so no "..", no hidden or temporary files.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class StorageError(Exception):
    """A storage operation failed."""


class AlreadyExists(StorageError):
    """A write-once key is already taken."""


class NotFound(StorageError):
    """No object is stored under the key."""


class InvalidKey(StorageError, ValueError):
    """The key is not one this library builds."""


def _as_uuid(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidKey(f"not an id: {value!r}") from None


def _fanout(evidence_id) -> str:
    """Two levels of two hex digits, so no directory holds more than 256 entries per level."""
    value = _as_uuid(evidence_id)
    return f"{value.hex[:2]}/{value.hex[2:4]}/{value}"


def original_key(evidence_id, uploader_id=None) -> str:
    """The key of an evidence's original bytes: ``originals/ab/cd/<uuid>``, or as one
    uploader sent them, ``originals/ab/cd/<uuid>.<uploader uuid>``: an evidence id may
    be known to others before its record arrives, so each uploader's bytes get their
    own key and nobody can take another's."""
    if uploader_id is None:
        return ORIGINALS + _fanout(evidence_id)
    return f"{ORIGINALS}{_fanout(evidence_id)}.{_as_uuid(uploader_id)}"


def derivative_key(evidence_id, name: str) -> str:
    """The key of a derivative such as ``thumb.jpg``: ``derivatives/ab/cd/<uuid>/<name>``."""
    if not isinstance(name, str) or not DERIVATIVE_NAME.fullmatch(name):
        raise InvalidKey(f"not a derivative name: {name!r}")
    return f"{DERIVATIVES}{_fanout(evidence_id)}/{name}"


def is_original(key: str) -> bool:
    """Whether the key names an original, which is write-once."""
    return key.startswith(ORIGINALS)


def check_key(key: str) -> str:
    """Return the key if it is a safe relative path of plain segments; raise InvalidKey."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
        raise InvalidKey(f"bad key: {key!r}")
    # Defence in depth: keys come from original_key/derivative_key, but a backend must
    # never be talked into writing outside its root whatever it is given.
    if not all(_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise InvalidKey(f"bad key: {key!r}")
    return key


def check_write(key: str, overwrite: bool) -> str:
    """Check a key about to be written; originals may never be overwritten."""
    check_key(key)
    if overwrite and is_original(key):
        raise StorageError(f"originals are write-once: {key}")
    return key


def check_range(start: int, end: int | None) -> None:
    """Refuse a negative or reversed byte range."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"bad byte range: {start}-{end}")


class Storage(abc.ABC):
    """Open, save, stream and delete objects by key; ranges are [start, end) in bytes."""

    @abc.abstractmethod
    def save(self, key: str, fileobj: BinaryIO, *, overwrite: bool = False) -> int:
        """Copy fileobj to key in chunks and return the bytes written.

        Without overwrite an existing key raises AlreadyExists; originals never overwrite.
        """

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary file object reading the object from its start."""

    def local_path(self, key: str) -> str | None:
        """The object as a file of this host that may be read in place, or None when it
        is kept elsewhere (S3): then ``open`` it."""
        return None

    @abc.abstractmethod
    def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = CHUNK
    ) -> Iterator[bytes]:
        """Yield bytes start..end (end exclusive, clamped to the size) in pieces of chunk."""

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """The object's size in bytes; NotFound if there is none."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is not an error."""
