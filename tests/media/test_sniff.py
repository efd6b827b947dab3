"""Formats are recognised from their first bytes only, against an allow-list."""

import io

import pytest
from photo_samples import png_header, scene

from media.sniff import FORMATS, HEAD_SIZE, sniff, sniff_file


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands + b"\x00\x00\x00\x08free"


def _saved(fmt: str) -> bytes:
    out = io.BytesIO()
    scene(1, (64, 48)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"\xff\xd8\xff\xe1\x00\x10Exif", "jpeg"),
        (png_header(10, 10), "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (_ftyp(b"heic", b"mif1", b"heic"), "heic"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "heic"),
        (_ftyp(b"avif", b"avif", b"mif1"), "avif"),
        (_ftyp(b"mif1", b"mif1", b"avif", b"miaf"), "avif"),
        (_ftyp(b"isom", b"isom", b"avc1"), "mp4"),
        (_ftyp(b"mp42", b"mp41", b"isom"), "mp4"),
        (_ftyp(b"qt  ", b"qt  "), "mov"),
        (_ftyp(b"3gp4", b"isom", b"3gp4"), "3gp"),
        (_ftyp(b"3g2a", b"3g2a"), "3gp"),
        (_ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "m4a"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04", "webm"),
        (b"#!AMR\n\x3c\x48", "amr"),
        (b"#!AMR-WB\n", "amr"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23", "mp3"),
        (b"\xff\xfb\x90\x64\x00\x00", "mp3"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "wav"),
        (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", "ogg"),
    ],
)
def test_allowed_formats_are_recognised_by_their_magic(head, name):
    fmt = sniff(head)
    assert fmt is FORMATS[name]


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\xff",
        "检查记录：办公室无人\n".encode(),
        b"GIF89a\x01\x00\x01\x00",
        b"%PDF-1.7\n",
        b"PK\x03\x04\x14\x00",
        b"II*\x00\x08\x00\x00\x00",
        b"BM\x36\x00\x00\x00",
        b"RIFF\x24\x00\x00\x00AVI LIST",
        _ftyp(b"crx ", b"crx "),
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska",
        b"\xff\xf1\x50\x80\x02\x1f\xfc",  # ADTS AAC, not MPEG layer III
        b"\xff\xfb\xf0\x64",  # bad bitrate index
        b"<?php echo 1; ?>",
    ],
    ids=lambda head: head[:8].hex() or "empty",
)
def test_other_content_is_not_allowed(head):
    assert sniff(head) is None


def test_sniff_file_ignores_the_name(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(_saved("PNG"))
    (tmp_path / "notes.jpg").write_text("not a photo", encoding="utf-8")
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert sniff_file(tmp_path / "photo.jpg").name == "png"
    assert sniff_file(tmp_path / "notes.jpg") is None
    assert sniff_file(tmp_path / "empty.jpg") is None


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")])
def test_files_written_by_pillow_are_recognised(fmt, name):
    assert sniff(_saved(fmt)[:HEAD_SIZE]).name == name


def test_heic_written_by_pillow_heif_is_a_photo(make_photo):
    fmt = sniff_file(make_photo("phone.heic"))
    assert (fmt.kind, fmt.name, fmt.mime) == ("photo", "heic", "image/heic")


def test_every_format_has_a_kind_and_mime():
    assert {f.kind for f in FORMATS.values()} == {"photo", "audio", "video"}
    assert all(f.mime.split("/")[0] in ("image", "audio", "video") for f in FORMATS.values())
