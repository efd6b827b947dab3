"""Derivatives of audio and video with ffmpeg: a poster frame and a browser-playable preview."""

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from media.av_probe import probe_av, run_tool, tool_detail
from media.errors import MediaError

_COMMON = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-threads", "2"]
# Previews are for watching; the facts (time, place) stay with the original and the record.
_NO_METADATA = ["-map_metadata", "-1", "-sn", "-dn"]


def make_poster(path, out_path, *, at_s: float | None = None, duration_s: float | None = None,
                max_side: int = 1600, timeout_s: float = 60) -> Path:
    """Write one frame of a video as a JPEG whose long side is at most ``max_side``."""
    path, out_path = Path(path), Path(out_path)
    if at_s is None:
        if duration_s is None:
            duration_s = probe_av(path, timeout_s=timeout_s)["duration_s"]
        at_s = min(1.0, duration_s / 2)
    # ffmpeg turns the frame upright itself (autorotate), before the scale filter sees it.
    scale = _fit(max_side)
    for seek in dict.fromkeys((at_s, 0.0)):  # a stream cut short may have no frame later on
        with _written(out_path) as tmp:
            args = [*_COMMON, "-ss", f"{seek:.3f}", "-i", f"file:{path}", "-map", "0:v:0",
                    "-frames:v", "1", "-vf", scale, "-q:v", "3", "-f", "image2",
                    "-c:v", "mjpeg", f"file:{tmp}"]
            done = run_tool(args, timeout_s=timeout_s, what="Taking a poster frame")
            if done.returncode != 0:
                raise MediaError(f"No poster frame could be taken ({tool_detail(done, path)}).")
            if tmp.stat().st_size > 0:
                return out_path
    raise MediaError("No poster frame could be taken: the video has no picture.")


def make_preview(path, out_path, kind: str, *, duration_s: float | None = None,
                 timeout_s: float | None = None) -> str:
    """Write a copy browsers play (MP4 H.264, or M4A AAC); returns its MIME type."""
    path, out_path = Path(path), Path(out_path)
    if duration_s is None:
        duration_s = probe_av(path)["duration_s"]
    if timeout_s is None:
        # Well above real time on two threads, and under the media job's 30-minute limit.
        timeout_s = min(60 + 2 * duration_s, 20 * 60)
    if kind == "video":
        output, mime = _video_output(), "video/mp4"
    elif kind == "audio":
        output, mime = _audio_output()
    else:
        raise ValueError(f"kind must be 'audio' or 'video', not {kind!r}")
    with _written(out_path) as tmp:
        args = [*_COMMON, "-i", f"file:{path}", *_NO_METADATA, *output, f"file:{tmp}"]
        done = run_tool(args, timeout_s=timeout_s, what="Making a playable copy")
        if done.returncode != 0 or tmp.stat().st_size == 0:
            raise MediaError(f"No playable copy could be made ({tool_detail(done, path)}).")
    return mime


def _video_output() -> list[str]:
    scale = _fit(1280) + ":force_divisible_by=2"  # yuv420p needs even sides
    return ["-map", "0:v:0", "-map", "0:a:0?", "-vf", scale, "-c:v", "libx264",
            "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", "-f", "mp4"]


def _audio_output() -> tuple[list[str], str]:
    if "aac" in ffmpeg_encoders():
        return (["-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", "96k",
                 "-movflags", "+faststart", "-f", "ipod"], "audio/mp4")
    return ["-map", "0:a:0", "-vn", "-c:a", "libmp3lame", "-q:a", "5", "-f", "mp3"], "audio/mpeg"


def _fit(max_side: int) -> str:
    """A scale filter shrinking (never enlarging) so both sides are at most max_side."""
    return (f"scale=w='min({max_side},iw)':h='min({max_side},ih)'"
            ":force_original_aspect_ratio=decrease")


@functools.cache
def ffmpeg_encoders() -> frozenset[str]:
    """Names of the encoders this ffmpeg was built with."""
    done = run_tool(["ffmpeg", "-hide_banner", "-encoders"], timeout_s=30, what="Listing encoders")
    names = set()
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


@contextlib.contextmanager
def _written(out_path: Path) -> Iterator[Path]:
    """A temporary name beside out_path, renamed onto it only if the block succeeds."""
    fd, name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if tmp.stat().st_size > 0:
            tmp.replace(out_path)
    finally:
        tmp.unlink(missing_ok=True)
