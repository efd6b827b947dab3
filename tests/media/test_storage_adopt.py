"""LocalStorage.adopt: a finished upload becomes the stored original without a copy."""

import errno
import io
import os
import stat
import uuid

import pytest

from media import storage_local
from media.storage import AlreadyExists, original_key
from media.storage_local import LocalStorage


@pytest.fixture
def staged(tmp_path):
    path = tmp_path / "uploads" / "abc.part"
    path.parent.mkdir()
    path.write_bytes(os.urandom(300_000))
    return path


def test_an_adopted_file_is_stored_read_only_under_its_key_without_a_copy(tmp_path, staged):
    store, key = LocalStorage(tmp_path / "media"), original_key(uuid.uuid4())
    assert store.adopt(key, staged) == 300_000
    stored = os.stat(os.path.join(store.root, *key.split("/")))
    assert stored.st_ino == staged.stat().st_ino  # the same bytes on disk, not a copy
    assert stat.S_IMODE(stored.st_mode) == 0o444
    with store.open(key) as f:
        assert f.read() == staged.read_bytes()


def test_adopting_under_a_taken_key_fails_and_keeps_the_first(tmp_path, staged):
    store, key = LocalStorage(tmp_path / "media"), original_key(uuid.uuid4())
    first = staged.read_bytes()
    store.adopt(key, staged)
    other = tmp_path / "uploads" / "other.part"
    other.write_bytes(b"another file")
    with pytest.raises(AlreadyExists):
        store.adopt(key, other)
    with store.open(key) as f:
        assert f.read() == first


def test_a_file_on_another_filesystem_is_copied(tmp_path, staged, monkeypatch):
    store, key = LocalStorage(tmp_path / "media"), original_key(uuid.uuid4())
    link = os.link

    def across_filesystems(src, dst):
        if not os.fspath(src).startswith(store.root):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        link(src, dst)

    monkeypatch.setattr(storage_local.os, "link", across_filesystems)
    assert store.adopt(key, staged) == 300_000
    stored = os.stat(os.path.join(store.root, *key.split("/")))
    assert stored.st_ino != staged.stat().st_ino
    with store.open(key) as f:
        assert f.read() == staged.read_bytes()


def test_a_file_out_of_the_page_cache_still_reads_whole(tmp_path, staged):
    """uncache only lets the kernel drop pages that are on disk: the bytes stay, a file
    still being written keeps what it has not yet written, and a stream without a file
    descriptor (an S3 body, say) is left alone."""
    content = staged.read_bytes()
    with open(staged, "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.write(b"tail")
        f.flush()
        storage_local.uncache(f)  # the tail is not fsynced yet
        f.write(b"!")
    storage_local.uncache(io.BytesIO(b"not a file"))
    assert staged.read_bytes() == content + b"tail!"
