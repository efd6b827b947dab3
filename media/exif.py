"""Read capture time, GPS, device and orientation from a photo's EXIF block with exifread."""

import io
import logging
import re
from datetime import datetime, timedelta, timezone

import exifread

log = logging.getLogger(__name__)

# Field readers meet whatever a phone (or an attacker) wrote; these mean "field unreadable".
_FIELD_ERRORS = (ValueError, TypeError, ArithmeticError, AttributeError, IndexError, KeyError)
_TIME_TAGS = (
    ("EXIF DateTimeOriginal", "EXIF OffsetTimeOriginal"),
    ("EXIF DateTimeDigitized", "EXIF OffsetTimeDigitized"),
    ("Image DateTime", "EXIF OffsetTime"),
)
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_H_POSITIONING_ERROR = "GPS Tag 0x001F"  # GPSHPositioningError, unnamed in exifread's table
# exifread reads every entry an IFD claims, there or not, and a sub-IFD again for each
# pointer to it: 16 pointers to an IFD claiming 65,535 entries, 208 bytes, took it 2 s, and
# a 64 KB block would take minutes. A phone's EXIF takes a few hundred reads.
MAX_EXIF_READS = 20_000


def read_exif(block: bytes | str | None) -> dict:
    """Orientation, capture time, GPS and device from an EXIF block; unreadable fields are None."""
    tags = read_tags(block)
    captured_at, offset = _field(read_capture_time, tags) or (None, None)
    return {
        "orientation": _field(read_orientation, tags),
        "captured_at": captured_at,
        "captured_at_offset": offset,
        "gps": _field(read_gps, tags),
        "device": _field(read_device, tags),
    }


def read_tags(block: bytes | str | None) -> dict:
    """exifread's tags for an EXIF block (with or without the "Exif\\0\\0" prefix), or {}."""
    # Pillow hands over the text of a PNG zTXt or iTXt chunk named "exif" as a str.
    if not block or not isinstance(block, bytes | bytearray):
        return {}
    tiff = block[6:] if block.startswith(b"Exif\x00\x00") else block
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return {}
    try:
        return exifread.process_file(_Bounded(tiff, MAX_EXIF_READS), details=False,
                                     extract_thumbnail=False)
    except Exception as exc:  # exifread raises any type on hostile blocks (AssertionError, …)
        log.info("EXIF block unreadable: %r", exc)
        return {}


class _TooManyReads(Exception):
    """exifread read the block more often than any camera's EXIF needs."""


class _Bounded(io.BytesIO):
    """The block as a file that refuses to be read more than `reads` times."""

    def __init__(self, data: bytes, reads: int):
        super().__init__(data)
        self._reads_left = reads

    def read(self, size: int | None = -1) -> bytes:
        self._reads_left -= 1
        if self._reads_left < 0:
            raise _TooManyReads("EXIF block makes the reader go round in circles")
        return super().read(size)


def read_capture_time(tags: dict) -> tuple[str, str | None] | None:
    """(ISO 8601 capture time, "+08:00"-style offset or None) from the first usable time tag.

    With an offset tag the time carries it; without one it is the phone's naive local time.
    """
    for stamp_tag, offset_tag in _TIME_TAGS:
        stamp = _parse_stamp(_text(tags.get(stamp_tag)))
        if stamp is None:
            continue
        match = _OFFSET.fullmatch(_text(tags.get(offset_tag)))
        if not match:
            return stamp.isoformat(), None
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
        if abs(delta) > timedelta(hours=14):
            return stamp.isoformat(), None
        return stamp.replace(tzinfo=timezone(delta)).isoformat(), match.group(0)
    return None


def read_gps(tags: dict) -> dict | None:
    """{"lat", "lon", "alt", "accuracy_m"} in degrees and metres, or None when there is no fix."""
    lat = _coordinate(tags, "GPSLatitude", "NS", 90)
    lon = _coordinate(tags, "GPSLongitude", "EW", 180)
    # Phones without a fix write empty references, 0/0 rationals or exactly 0,0.
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None
    return {
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "alt": _field(_altitude, tags),
        "accuracy_m": _field(lambda t: _number(_values(t, _H_POSITIONING_ERROR)[0]), tags),
    }


def read_device(tags: dict) -> dict | None:
    """{"make", "model"} of the capturing device, or None when neither is written."""
    make, model = _text(tags.get("Image Make")), _text(tags.get("Image Model"))
    if not make and not model:
        return None
    return {"make": make or None, "model": model or None}


def read_orientation(tags: dict) -> int | None:
    """The EXIF orientation 1..8, or None when absent or out of range."""
    value = _values(tags, "Image Orientation")[0]
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _field(reader, tags):
    try:
        return reader(tags)
    except _FIELD_ERRORS:
        return None


def _values(tags: dict, name: str) -> list:
    tag = tags.get(name)
    values = getattr(tag, "values", None)
    if not isinstance(values, list) or not values:
        raise ValueError(f"{name} missing")
    return values


def _number(value) -> float | None:
    if getattr(value, "denominator", 1) == 0:
        return None  # exifread keeps 0/0 rationals as they are
    return float(value)


def _coordinate(tags: dict, name: str, refs: str, limit: int) -> float | None:
    ref = _text(tags.get(f"GPS {name}Ref")).upper()[:1]
    if not ref or ref not in refs:
        return None
    parts = [_number(v) for v in _values(tags, f"GPS {name}")[:3]]
    if any(p is None or p < 0 for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    if degrees > limit:
        return None
    return -degrees if ref == refs[1] else degrees


def _altitude(tags: dict) -> float | None:
    altitude = _number(_values(tags, "GPS GPSAltitude")[0])
    ref = tags.get("GPS GPSAltitudeRef")
    below = ref is not None and getattr(ref, "values", [0])[:1] == [1]
    return None if altitude is None else round(-altitude if below else altitude, 2)


def _text(tag) -> str:
    values = getattr(tag, "values", "")
    if isinstance(values, bytes):
        values = values.decode("ascii", "replace")
    return values.strip("\x00 ").strip() if isinstance(values, str) else ""


def _parse_stamp(text: str) -> datetime | None:
    # EXIF says "YYYY:MM:DD HH:MM:SS"; some writers use dashes or a T.
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text[:19], pattern)
        except ValueError:
            continue
    return None
