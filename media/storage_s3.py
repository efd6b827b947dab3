"""Evidence bytes in an S3-compatible object store (AWS S3, MinIO, Ceph RGW…).

Write-once is enforced twice: a HEAD before uploading (so a taken key fails before a
gigabyte is sent) and ``If-None-Match: *`` on the final PUT or CompleteMultipartUpload,
which closes the race between two writers. A store that ignores that header leaves only
the HEAD check, with its small race; AWS S3, recent MinIO and moto honour it.

Credentials come from boto3's usual chain (environment, profile, instance role). Some
older S3-compatible stores reject boto3's default checksums: set
``AWS_REQUEST_CHECKSUM_CALCULATION=when_required`` for those.
"""

import contextlib
import io
from collections.abc import Iterator
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from media.storage import (
    CHUNK,
    AlreadyExists,
    NotFound,
    Storage,
    check_key,
    check_range,
    check_write,
)

# One part is held in memory at a time, so memory stays near this however large the file.
# 8 MiB × S3's 10,000-part limit allows objects up to 78 GiB.
PART_SIZE = 8 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
_TAKEN = {"PreconditionFailed", "412"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3Storage(Storage):
    """Objects in one bucket, under an optional key prefix."""

    def __init__(self, bucket: str, *, client=None, endpoint_url: str | None = None,
                 prefix: str = "", region: str | None = None, part_size: int = PART_SIZE):
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        # Path-style addressing: S3-compatible servers seldom have per-bucket hostnames.
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=Config(s3={"addressing_style": "path"} if endpoint_url else {}))

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def save(self, key: str, fileobj: BinaryIO, *, overwrite: bool = False) -> int:
        """Upload in parts of part_size; a small file goes up in one conditional PUT."""
        check_write(key, overwrite)
        if not overwrite and self.exists(key):
            raise AlreadyExists(key)
        condition = {} if overwrite else {"IfNoneMatch": "*"}
        try:
            return self._upload(self._name(key), fileobj, condition)
        except ClientError as error:
            if _code(error) in _TAKEN:
                raise AlreadyExists(key) from None
            raise

    def _upload(self, name: str, fileobj: BinaryIO, condition: dict) -> int:
        data = _read_part(fileobj, self.part_size)
        if (written := _length(data)) < self.part_size:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data, **condition)
            return written
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=name, ChecksumAlgorithm="CRC32")["UploadId"]
        target = {"Bucket": self.bucket, "Key": name, "UploadId": upload}
        try:
            parts, written = [], 0
            while _length(data):
                part = {"PartNumber": len(parts) + 1}
                reply = self.client.upload_part(Body=data, ChecksumAlgorithm="CRC32",
                                                **part, **target)
                part["ETag"] = reply["ETag"]
                if "ChecksumCRC32" in reply:  # S3 wants each part's checksum back
                    part["ChecksumCRC32"] = reply["ChecksumCRC32"]
                parts.append(part)
                written += _length(data)
                data = None  # let the sent part go before the next one is read
                data = _read_part(fileobj, self.part_size)
            self.client.complete_multipart_upload(MultipartUpload={"Parts": parts},
                                                  **target, **condition)
            return written
        except BaseException:
            # An abandoned upload keeps its parts (and their cost) until aborted; a failed
            # abort must not hide the error that caused it.
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.abort_multipart_upload(**target)
            raise

    def open(self, key: str) -> BinaryIO:
        """The object's body as a streaming file object."""
        return self._get(key)

    def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = CHUNK
    ) -> Iterator[bytes]:
        """Yield bytes [start, end) fetched with one ranged GET."""
        check_range(start, end)
        if end is not None and end == start:
            self.size(key)  # S3 has no empty range; still say NotFound for a missing key
            return iter(())
        if start == 0 and end is None:
            return _iterate(self._get(key), chunk)
        last = "" if end is None else str(end - 1)
        try:
            body = self._get(key, Range=f"bytes={start}-{last}")
        except ClientError as error:
            if _code(error) != "InvalidRange":  # start at or past the end: nothing to send
                raise
            return iter(())
        return _iterate(body, chunk)

    def _get(self, key: str, **options):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key),
                                          **options)["Body"]
        except ClientError as error:
            if _code(error) in _MISSING:
                raise NotFound(key) from None
            raise

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise

    def size(self, key: str) -> int:
        """The object's ContentLength; NotFound if there is none."""
        head = self._head(key)
        if head is None:
            raise NotFound(key)
        return head["ContentLength"]

    def exists(self, key: str) -> bool:
        """Whether the bucket holds the key."""
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        """Delete the object; S3 answers the same whether or not it existed."""
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))


def _read_part(fileobj: BinaryIO, size: int) -> io.BytesIO:
    """Up to size bytes: short reads are gathered, since S3 parts must be 5 MiB or more."""
    # One growing buffer, handed to botocore as a file: joining pieces would hold two copies.
    part = io.BytesIO()
    while (held := part.tell()) < size and (data := fileobj.read(min(CHUNK, size - held))):
        part.write(data)
    part.seek(0)
    return part


def _length(part: io.BytesIO) -> int:
    return part.getbuffer().nbytes  # a view, not a copy of the part


def _iterate(body, chunk: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk)
    finally:
        body.close()
