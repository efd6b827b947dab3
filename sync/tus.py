"""The tus 1.0.0 resumable upload protocol (tus.io): its headers, parsed and checked.

Pure functions over header values; the server's upload views and the reference client
use them alike.
"""

import base64
import binascii
import hashlib
import re

VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "checksum", "termination", "expiration")
CHECKSUMS = {"sha1": hashlib.sha1, "md5": hashlib.md5, "sha256": hashlib.sha256}
OFFSET_TYPE = "application/offset+octet-stream"
# Headers a browser client must be allowed to send and to read (CORS).
REQUEST_HEADERS = ("Authorization", "Content-Type", "Tus-Resumable", "Upload-Length",
                   "Upload-Offset", "Upload-Metadata", "Upload-Checksum", "Upload-Defer-Length",
                   "X-HTTP-Method-Override", "X-Request-ID")
EXPOSED_HEADERS = ("Location", "Upload-Offset", "Upload-Length", "Upload-Metadata",
                   "Upload-Expires", "Tus-Resumable", "Tus-Version", "Tus-Extension",
                   "Tus-Max-Size", "Tus-Checksum-Algorithm", "X-Request-ID")
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_NUMBER = re.compile(r"^[0-9]{1,19}$")


class TusError(ValueError):
    """A header that breaks the protocol; the message says which and why."""


def parse_number(value: str | None, name: str) -> int:
    """A non-negative integer header such as Upload-Length or Upload-Offset."""
    if value is None or not _NUMBER.match(value.strip()):
        raise TusError(f"{name} must be a non-negative integer")
    return int(value.strip())


def parse_metadata(value: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated ``key base64value`` pairs (value may be absent)."""
    result: dict[str, str] = {}
    if not value or not value.strip():
        return result
    for pair in value.split(","):
        key, _sep, encoded = pair.strip().partition(" ")
        if not _KEY.match(key) or key in result:
            raise TusError(f"Upload-Metadata has a bad or repeated key {key[:64]!r}")
        try:
            result[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(f"Upload-Metadata value of {key!r} is not base64 UTF-8") from None
        if "\x00" in result[key]:  # no database stores it as text
            raise TusError(f"Upload-Metadata value of {key!r} holds a NUL character")
    return result


def encode_metadata(values: dict[str, str]) -> str:
    """The Upload-Metadata header for ``values``."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def parse_checksum(value: str | None) -> tuple[str, bytes] | None:
    """Upload-Checksum: ``algorithm base64digest``; None when absent."""
    if value is None:
        return None
    algorithm, _sep, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise TusError(f"checksum algorithm {algorithm[:20]!r} is not supported; "
                       f"use one of {', '.join(CHECKSUMS)}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise TusError("Upload-Checksum digest is not base64") from None
    if len(digest) != CHECKSUMS[algorithm]().digest_size:
        raise TusError(f"Upload-Checksum digest has the wrong length for {algorithm}")
    return algorithm, digest
