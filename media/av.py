"""Audio and video evidence: probe with ffprobe, derive a poster and a playable preview."""

from media.av_derive import make_poster, make_preview
from media.av_probe import probe_av

__all__ = ["make_poster", "make_preview", "probe_av"]
