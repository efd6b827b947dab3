"""Make each planned piece of evidence's file, keep it in media storage under the key an
upload by its creator gets, and process it with the media pipeline there and then, so
that the demo's records are what real uploads make and no worker is needed."""

import hashlib
import tempfile
from pathlib import Path

from media.storage import original_key

from ..evidence.pipeline import process
from ..evidence.storage import storage
from ..extensions import db
from . import recordings, scenes
from .evidence import Shot

PHOTO_WIDTHS = (1600, 1800, 2000)
STILL_WIDTH = 1440  # a video's picture, panned across


def capture(shots: list[Shot]):
    """Make, store and process the shots in the order they reached the server (so a
    copied photo meets the one it copies)."""
    with tempfile.TemporaryDirectory(prefix="mingcha-demo-") as folder:
        for n, shot in enumerate(sorted(shots, key=lambda s: (s.evidence.created_at, s.taken))):
            path = _make(shot, Path(folder) / f"{n}")
            _store(shot, path)
            process(shot.evidence)
            db.session.add(shot.evidence)
            path.unlink()


def _stamp(shot: Shot) -> list[str]:
    """What a camera app prints on the picture: time, then place."""
    site = (shot.evidence.check or shot.evidence.rectification.case.finding.check).site
    return [f"{shot.taken:%Y-%m-%d %H:%M}",
            f"{shot.point['lat']:.6f}N {shot.point['lon']:.6f}E   {site.code}"]


def _make(shot: Shot, stem: Path) -> Path:
    kind = shot.evidence.kind
    if kind == "audio":
        return recordings.voice_note(stem.with_suffix(".m4a"), shot.speech, shot.taken)
    width = STILL_WIDTH if kind == "video" else PHOTO_WIDTHS[shot.seed % len(PHOTO_WIDTHS)]
    picture = scenes.picture(shot.scene, shot.seed, width, _stamp(shot), tidy=shot.tidy)
    photo = stem.with_suffix(".jpg")
    photo.write_bytes(scenes.jpeg(picture, taken=shot.taken, point=shot.point,
                                  device=shot.device, quality=shot.quality))
    if kind == "photo":
        return photo
    video = recordings.video(stem.with_suffix(".mp4"), photo, shot.taken, shot.point)
    photo.unlink()
    return video


def _store(shot: Shot, path: Path):
    """Keep the file as the creator's upload is kept: write-once, under their own key."""
    evidence = shot.evidence
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    key = original_key(evidence.id, evidence.created_by)
    with open(path, "rb") as f:
        evidence.size = storage().save(key, f)
    evidence.storage_key, evidence.sha256, evidence.state = key, digest, "processing"
