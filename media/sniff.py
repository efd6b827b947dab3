"""Recognise evidence formats from their first bytes, never from the name or declared type."""

from dataclasses import dataclass
from pathlib import Path

HEAD_SIZE = 64


@dataclass(frozen=True)
class Format:
    """A recognised media format: its kind, short name and MIME type."""

    kind: str  # "photo" | "audio" | "video"
    name: str
    mime: str


FORMATS = {
    f.name: f
    for f in (
        Format("photo", "jpeg", "image/jpeg"),
        Format("photo", "png", "image/png"),
        Format("photo", "webp", "image/webp"),
        Format("photo", "heic", "image/heic"),
        Format("photo", "avif", "image/avif"),
        Format("video", "mp4", "video/mp4"),
        Format("video", "mov", "video/quicktime"),
        Format("video", "3gp", "video/3gpp"),
        Format("video", "webm", "video/webm"),
        Format("audio", "m4a", "audio/mp4"),
        Format("audio", "amr", "audio/amr"),
        Format("audio", "mp3", "audio/mpeg"),
        Format("audio", "wav", "audio/wav"),
        Format("audio", "ogg", "audio/ogg"),
    )
}

# ISO-BMFF brands (the `ftyp` box) that name a format we accept.
_BRANDS = {
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"), "heic"),
    **dict.fromkeys((b"mif1", b"msf1"), "heic"),
    b"avif": "avif",
    **dict.fromkeys((b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42"), "mp4"),
    **dict.fromkeys((b"avc1", b"dash", b"M4V ", b"MSNV"), "mp4"),
    b"qt  ": "mov",
    **dict.fromkeys((b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3g2a", b"3g2b", b"3g2c"), "3gp"),
    **dict.fromkeys((b"M4A ", b"M4B "), "m4a"),
}
_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"#!AMR", "amr"),  # also matches "#!AMR-WB"
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
)


def sniff(head: bytes) -> Format | None:
    """The allowed format whose magic bytes start `head`, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return FORMATS[name]
    name = _riff(head) or _ftyp(head) or _ebml(head) or _mp3_frame(head)
    return FORMATS.get(name) if name else None


def sniff_file(path: str | Path) -> Format | None:
    """The allowed format of the file at `path`, judged from its first bytes, or None."""
    with open(path, "rb") as f:
        return sniff(f.read(HEAD_SIZE))


def _riff(head: bytes) -> str | None:
    if head[:4] != b"RIFF":
        return None
    return {b"WEBP": "webp", b"WAVE": "wav"}.get(head[8:12])


def _ftyp(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    # The major brand decides; a generic one (mif1, isom) defers to a specific compatible brand.
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    names = [_BRANDS[b] for b in brands if b in _BRANDS]
    if not names:
        return None
    if brands[0] in (b"mif1", b"msf1", b"isom") and "avif" in names:
        return "avif"
    return names[0]


def _ebml(head: bytes) -> str | None:
    # Matroska and WebM share the EBML header; only the DocType "webm" is on the allow-list.
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"\x42\x82" in head and b"webm" in head:
        return "webm"
    return None


def _mp3_frame(head: bytes) -> str | None:
    # An MPEG audio frame sync with layer III, a valid bitrate and sample rate; this rules out
    # ADTS AAC (layer bits 00) and random bytes that merely start 0xFFE.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate in (0, 15) or rate == 3:
        return None
    return "mp3"
