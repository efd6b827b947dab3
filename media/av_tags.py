"""Facts in ffprobe's answer: container, capture time, ISO 6709 location, device, playability."""

import re
from datetime import datetime

# Apple's location carries altitude, so it is read first; Android's ©xyz shows up as `location`.
_LOCATION_TAGS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
# Apple's creation date carries the phone's UTC offset; creation_time is UTC only.
_TIME_TAGS = ("com.apple.quicktime.creationdate", "creation_time")
_DEVICE_TAGS = (("com.apple.quicktime.make", "com.apple.quicktime.model"),
                ("com.android.manufacturer", "com.android.model"))
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)?")
_ISO_BMFF = frozenset({"mp4", "mov", "m4a", "3gp"})
_WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO = frozenset({"opus", "vorbis"})
_PCM = frozenset({"pcm_u8", "pcm_s16le", "pcm_f32le"})
_AUDIO_PLAYABLE = {"mp3": {"mp3"}, "mp4": {"aac", "mp3"}, "m4a": {"aac", "mp3"},
                   "mov": {"aac", "mp3"}, "wav": _PCM, "ogg": _WEBM_AUDIO, "webm": _WEBM_AUDIO}


def lower_tags(entry: dict | None) -> dict:
    """The `tags` of a format or stream entry with lower-case keys (Matroska shouts)."""
    tags = (entry or {}).get("tags") or {}
    return {str(key).lower(): value for key, value in tags.items()}


def read_container(fmt: dict, codecs: set[str]) -> str:
    """A short container name: mp4, mov, m4a, 3gp, webm, matroska, mp3, wav, amr, ogg…"""
    names = str(fmt.get("format_name", "")).split(",")
    if "mov" in names:
        brand = str(lower_tags(fmt).get("major_brand", "")).strip().lower()
        if brand in ("", "qt"):
            return "mov"  # QuickTime files older than the ftyp box carry no brand
        if brand.startswith("3g"):
            return "3gp"
        return "m4a" if brand in ("m4a", "m4b") else "mp4"
    if "matroska" in names:
        # ffprobe names both the same; only WebM's codecs make a file WebM to a browser.
        return "webm" if codecs and codecs <= _WEBM_VIDEO | _WEBM_AUDIO else "matroska"
    return names[0] or "unknown"


def is_browser_playable(container: str, video: dict | None, audio: dict | None) -> bool:
    """Whether browsers play the file as it is, so no preview needs to be made."""
    audio_codec = audio.get("codec_name") if audio else None
    if video is None:
        return audio_codec in _AUDIO_PLAYABLE.get(container, ())
    codec = video.get("codec_name")
    if container in ("mp4", "mov"):
        # 10-bit and 4:4:4 H.264 are valid files that browsers refuse to decode.
        return (codec == "h264" and video.get("pix_fmt") in ("yuv420p", "yuvj420p")
                and audio_codec in (None, "aac", "mp3"))
    if container == "webm":
        return codec in _WEBM_VIDEO and audio_codec in (None, *_WEBM_AUDIO)
    return False


def read_captured_at(fmt: dict, streams: list[dict]) -> str | None:
    """When the recording was made, as ISO 8601, from the container's tags."""
    tag_sets = [lower_tags(fmt), *(lower_tags(stream) for stream in streams)]
    for name in _TIME_TAGS:
        for tags in tag_sets:
            when = parse_time(tags.get(name))
            if when:
                return when
    return None


def parse_time(text) -> str | None:
    """ISO 8601 for a tag's time, or None when it is absent, garbled or a zeroed clock."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # Phones without a set clock write the container's epoch (1904 or 1970).
    return when.isoformat() if when.year >= 2000 else None


def read_gps(fmt: dict) -> dict | None:
    """{"lat", "lon", "alt"?} from the first location tag that parses, else None."""
    tags = lower_tags(fmt)
    for name in _LOCATION_TAGS:
        gps = parse_iso6709(tags.get(name))
        if gps:
            return gps
    return None


def parse_iso6709(text) -> dict | None:
    """Degrees from an ISO 6709 string such as "+34.2600+117.1900+045.000/"; 0,0 is none."""
    match = _ISO6709.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    lat, lon = _degrees(match[1], 2), _degrees(match[2], 3)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or lat == lon == 0:
        return None
    gps = {"lat": lat, "lon": lon}
    if match[3]:
        gps["alt"] = float(match[3])
    return gps


def _degrees(text: str, width: int) -> float | None:
    """Signed degrees from ±DD.D, ±DDMM.M or ±DDMMSS.S (one more D for longitude)."""
    whole, _dot, fraction = text[1:].partition(".")
    digits = whole + "." + (fraction or "0")
    if len(whole) == width:
        value = float(digits)
    elif len(whole) == width + 2 and int(whole[width:]) < 60:
        value = int(whole[:width]) + float(digits[width:]) / 60
    elif len(whole) == width + 4 and int(whole[width:width + 2]) < 60:
        value = (int(whole[:width]) + int(whole[width:width + 2]) / 60
                 + float(digits[width + 2:]) / 3600)
    else:
        return None
    return -value if text[0] == "-" else value


def read_device(fmt: dict) -> dict | None:
    """{"make", "model"} from Apple's or Android's tags, else None."""
    tags = lower_tags(fmt)
    for make_tag, model_tag in _DEVICE_TAGS:
        make, model = tags.get(make_tag), tags.get(model_tag)
        if make or model:
            return {"make": make, "model": model}
    return None
