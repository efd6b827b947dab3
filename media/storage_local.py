"""Evidence bytes as files under one root directory: the embedded default."""

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from media.storage import (
    CHUNK,
    AlreadyExists,
    NotFound,
    Storage,
    check_key,
    check_range,
    check_write,
    is_original,
)


class LocalStorage(Storage):
    """Objects as files under root; a save lands whole or not at all, originals read-only."""

    def __init__(self, root):
        self.root = os.path.abspath(os.fspath(root))

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *check_key(key).split("/"))

    def save(self, key: str, fileobj: BinaryIO, *, overwrite: bool = False) -> int:
        """Copy fileobj to a temporary file beside the target, fsync it, then move it in."""
        check_write(key, overwrite)
        path = self._path(key)
        if not overwrite and os.path.lexists(path):
            raise AlreadyExists(key)  # fail before copying a gigabyte, not after
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        # A name no key can have (keys never start with "."), in the same directory so the
        # final link or rename is atomic.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                written = _copy(fileobj, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o444 if is_original(key) else 0o644)
            _place(tmp, path, key, overwrite)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _fsync_dir(directory)
        return written

    def adopt(self, key: str, path) -> int:
        """Store the finished file at path under key by hard-linking it, not copying it.

        Write-once like save: the file is made read-only and fsynced, then linked in (link
        fails if the key is taken). The caller removes path afterwards and must not write
        to the file again: it is now the stored object. Across filesystems it is copied.
        """
        check_write(key, False)
        target = self._path(key)
        if os.path.lexists(target):
            raise AlreadyExists(key)
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        with open(path, "rb") as f:
            os.fchmod(f.fileno(), 0o444 if is_original(key) else 0o644)
            os.fsync(f.fileno())  # cheap when the writer fsynced already
            try:
                _place(os.fspath(path), target, key, overwrite=False)
            except OSError as error:
                if error.errno not in _NO_LINK:
                    raise
                return self.save(key, f)
            size = os.fstat(f.fileno()).st_size
        _fsync_dir(directory)
        return size

    def open(self, key: str) -> BinaryIO:
        """The file, opened for reading."""
        try:
            return open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(key) from None

    def local_path(self, key: str) -> str:
        """The file itself; NotFound if there is none."""
        self.size(key)
        return self._path(key)

    def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk: int = CHUNK
    ) -> Iterator[bytes]:
        """Yield bytes [start, end) by seeking, never reading what is not asked for."""
        check_range(start, end)
        self.size(key)  # NotFound now, before a response has started
        return _read_range(self._path(key), start, end, chunk)

    def size(self, key: str) -> int:
        """The file's size; NotFound if there is no file."""
        try:
            info = os.stat(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(key) from None
        if not stat.S_ISREG(info.st_mode):
            raise NotFound(key)
        return info.st_size

    def exists(self, key: str) -> bool:
        """Whether a file is stored under the key."""
        return os.path.isfile(self._path(key))

    def delete(self, key: str) -> None:
        """Unlink the file (its read-only mode does not stop that); a missing one is fine."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))


def uncache(f) -> None:
    """Let the page cache drop the file's pages that are on disk, and start writing back
    the others without waiting (Linux's DONTNEED; elsewhere nothing). For a file written
    or read once in bulk, an upload or an original a media job reads: its pages would push
    out what people look at, and pages freed now are taken again by the next file, where
    fresh ones can cost far more: on a VM that hands free memory back to its host (the
    2-core CI machine), writing 3 GiB as 5 MiB files took 5.7 s of CPU, and 0.66 s when
    each file's pages were dropped after its fsync. Anything without a file descriptor
    (an S3 body) is left alone."""
    if hasattr(os, "posix_fadvise") and hasattr(f, "fileno"):
        with contextlib.suppress(OSError, ValueError):  # not a file after all: no harm
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


# link() cannot join these: another filesystem, or one without hard links.
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP)


def _copy(fileobj: BinaryIO, out: BinaryIO) -> int:
    written = 0
    while data := fileobj.read(CHUNK):
        out.write(data)
        written += len(data)
    return written


def _place(tmp: str, path: str, key: str, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        # link() fails if the name is taken, so two racing writers cannot both win
        # (rename would silently replace the first).
        os.link(tmp, path)
    except FileExistsError:
        raise AlreadyExists(key) from None


def _fsync_dir(directory: str) -> None:
    """Make the new directory entry durable, not just the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_range(path: str, start: int, end: int | None, chunk: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        remaining = None if end is None else end - start
        while remaining is None or remaining > 0:
            data = f.read(chunk if remaining is None else min(chunk, remaining))
            if not data:
                return
            if remaining is not None:
                remaining -= len(data)
            yield data
