"""Opaque pull cursors: a position in the change feed, signed so it cannot be forged."""

import base64
import hashlib
import hmac


class CursorError(ValueError):
    """The cursor was not made by this server, or was tampered with."""


def _sign(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"mingcha-cursor:" + body, hashlib.sha256).digest()[:12]


def encode(seq: int, key: bytes) -> str:
    """The cursor for "everything up to and including ``seq``"."""
    body = str(seq).encode()
    return base64.urlsafe_b64encode(body + b"." + _sign(key, body)).decode().rstrip("=")


def decode(cursor: str, key: bytes) -> int:
    """The feed position of ``cursor``; raises CursorError when it is not genuine."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body, _dot, signature = raw.partition(b".")
        seq = int(body.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise CursorError("not a cursor") from None
    if seq < 0 or not hmac.compare_digest(signature, _sign(key, body)):
        raise CursorError("cursor signature does not match")
    return seq
