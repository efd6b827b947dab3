"""Voice notes and short videos for the demo, made with ffmpeg (and espeak-ng for speech,
when it is installed), as the phones record them: M4A/AAC and MP4/H.264 with AAC."""

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

FFMPEG = ["-nostdin", "-y", "-v", "error"]
TIMEOUT_S = 60


def available() -> bool:
    """Whether recordings can be made here: ffmpeg is installed."""
    return shutil.which("ffmpeg") is not None


def _run(args: list[str]):
    subprocess.run([shutil.which(args[0]) or args[0], *args[1:]],  # noqa: S603 - our own args
                   check=True, capture_output=True, timeout=TIMEOUT_S)


def _tags(taken: datetime, point: dict | None) -> list[str]:
    """Capture time (UTC, as Android writes it) and, for videos, the ISO 6709 location."""
    tags = ["-metadata", f"creation_time={taken.astimezone(UTC):%Y-%m-%dT%H:%M:%S.000000Z}"]
    if point:
        tags += ["-metadata", f"location={point['lat']:+.4f}{point['lon']:+.4f}/"]
    return tags


def voice_note(out: Path, text: str, taken: datetime) -> Path:
    """A dictated note: ``text`` spoken in Mandarin by espeak-ng, or a tone without it."""
    if shutil.which("espeak-ng"):
        wav = out.with_suffix(".wav")
        _run(["espeak-ng", "-v", "zh", "-s", "160", "-w", str(wav), text])
        source = ["-i", str(wav)]
    else:
        source = ["-f", "lavfi", "-i", "sine=frequency=330:duration=3"]
    _run(["ffmpeg", *FFMPEG, *source, "-ac", "1", "-c:a", "aac", "-b:a", "48k",
          *_tags(taken, None), str(out)])
    return out


def video(out: Path, still: Path, taken: datetime, point: dict, seconds: float = 2) -> Path:
    """A short pan across ``still`` (a picture of the place) with street noise, located."""
    pan = f"crop=960:540:x='(iw-960)*t/{seconds}':y='(ih-540)/2'"
    _run(["ffmpeg", *FFMPEG, "-loop", "1", "-framerate", "15", "-t", str(seconds),
          "-i", str(still), "-f", "lavfi", "-t", str(seconds),
          "-i", "anoisesrc=color=brown:amplitude=0.05",
          "-vf", f"scale=1280:-2,{pan}", "-c:v", "libx264", "-preset", "ultrafast",
          "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k", "-shortest",
          "-movflags", "+faststart", *_tags(taken, point), str(out)])
    return out
