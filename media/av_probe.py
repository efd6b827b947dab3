"""Probing audio and video with ffprobe: kind, length, size, time, place and device."""

import json
import shutil
import subprocess
from pathlib import Path

from media.av_tags import (
    is_browser_playable,
    read_captured_at,
    read_container,
    read_device,
    read_gps,
)
from media.errors import MediaError

_DAMAGED = "The recording could not be read: it is damaged, incomplete or not audio or video"


def probe_av(path, *, max_duration_s: float = 3600, max_pixels: int = 8_294_400,
             timeout_s: float = 30) -> dict:
    """What an audio or video file holds; MediaError when it cannot serve as evidence."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise MediaError("The file is empty (0 bytes).")
    fmt, streams = _ffprobe(path, timeout_s)
    video = _first_stream(streams, "video")
    audio = _first_stream(streams, "audio")
    if video is None and audio is None:
        raise MediaError("The file holds no audio or video.")
    container = read_container(fmt, {s.get("codec_name") for s in (video, audio) if s})
    if container in ("mp4", "mov", "m4a", "3gp"):
        check_boxes_complete(path, size)
    duration = _duration(fmt, streams) or scan_duration(path, timeout_s)
    if not duration or duration <= 0:
        raise MediaError("The recording has no length: it holds no audio or video data.")
    if duration > max_duration_s:
        raise MediaError(f"The recording is {_span(duration)} long; "
                         f"at most {_span(max_duration_s)} is accepted.")
    width, height = display_size(video)
    if width * height > max_pixels:
        raise MediaError(f"The video is {width}×{height} pixels; "
                         f"at most {max_pixels:,} pixels (4K) are accepted.")
    return {"kind": "video" if video else "audio", "container": container,
            "duration_s": duration, "captured_at": read_captured_at(fmt, streams),
            "gps": read_gps(fmt), "device": read_device(fmt),
            "width": width if video else None, "height": height if video else None,
            "video_codec": video.get("codec_name") if video else None,
            "audio_codec": audio.get("codec_name") if audio else None,
            "browser_playable": is_browser_playable(container, video, audio)}


def run_tool(args: list[str], *, timeout_s: float, what: str) -> subprocess.CompletedProcess:
    """Run ffmpeg or ffprobe without a shell; a file that makes it hang is a MediaError."""
    tool = shutil.which(args[0])
    if tool is None:  # a broken install, not bad evidence: let the job fail and retry
        raise RuntimeError(f"{args[0]} is not installed")
    try:
        # Arguments are a list and inputs carry a file: prefix, so no name becomes an option.
        return subprocess.run([tool, *args[1:]], capture_output=True, timeout=timeout_s,  # noqa: S603
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:  # run() has already killed the tool
        raise MediaError(f"{what} took longer than {timeout_s:g} s and was stopped; "
                         "the file may be damaged.") from exc


def tool_detail(done: subprocess.CompletedProcess, path: Path) -> str:
    """The tool's last error line, without our storage path, short enough to show."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    last = lines[-1] if lines else f"exit status {done.returncode}"
    for name in (f"file:{path}", str(path)):
        last = last.replace(name + ": ", "").replace(name, path.name)
    return last[:200]


def _ffprobe(path: Path, timeout_s: float) -> tuple[dict, list[dict]]:
    args = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
            "-show_streams", "-i", f"file:{path}"]
    done = run_tool(args, timeout_s=timeout_s, what="Reading the recording")
    if done.returncode != 0:
        raise MediaError(f"{_DAMAGED} ({tool_detail(done, path)}).")
    try:
        info = json.loads(done.stdout)
    except ValueError as exc:
        raise MediaError(f"{_DAMAGED}.") from exc
    return info.get("format") or {}, info.get("streams") or []


def _first_stream(streams: list[dict], codec_type: str) -> dict | None:
    """The first stream of a type; a cover picture in an audio file is not video."""
    for stream in streams:
        if stream.get("codec_type") != codec_type:
            continue
        if codec_type == "video" and (stream.get("disposition") or {}).get("attached_pic"):
            continue
        return stream
    return None


def _duration(fmt: dict, streams: list[dict]) -> float | None:
    for value in (fmt.get("duration"), *(s.get("duration") for s in streams)):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return None


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def scan_duration(path: Path, timeout_s: float) -> float | None:
    """Length found by reading every packet, for files whose header has none."""
    # Browsers' MediaRecorder writes WebM without a duration; copying to null is cheap.
    args = ["ffmpeg", "-nostdin", "-v", "error", "-i", f"file:{path}", "-map", "0",
            "-c", "copy", "-f", "null", "-progress", "pipe:1", "-nostats", "-"]
    done = run_tool(args, timeout_s=timeout_s, what="Measuring the recording")
    times = [line.partition("=")[2] for line in done.stdout.decode("ascii", "replace").split()
             if line.startswith("out_time_us=")]
    try:
        return int(times[-1]) / 1_000_000 if times else None
    except ValueError:
        return None


def display_size(video: dict | None) -> tuple[int, int]:
    """Width and height as shown, swapped when the phone was held sideways."""
    if video is None:
        return 0, 0
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    rotation = (video.get("tags") or {}).get("rotate", 0)
    for side_data in video.get("side_data_list") or []:
        rotation = side_data.get("rotation", rotation)
    try:
        quarter_turn = abs(int(float(rotation))) % 180 == 90
    except (TypeError, ValueError):
        quarter_turn = False
    return (height, width) if quarter_turn else (width, height)


def check_boxes_complete(path: Path, size: int) -> None:
    """Raise when an MP4-family file ends inside a box: it was cut short."""
    # A cut-off file with its index up front probes as whole; its boxes tell the truth.
    with path.open("rb") as file:
        offset, boxes = 0, 0
        # Phones write a handful of top-level boxes; the cap keeps a hostile file cheap.
        while offset + 8 <= size and boxes < 100_000:
            boxes += 1
            file.seek(offset)
            header = file.read(16)
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1 and len(header) == 16:
                box_size = int.from_bytes(header[8:16], "big")
            if box_size == 0:
                return  # "extends to the end of the file"
            if box_size < 8:
                raise MediaError(f"{_DAMAGED} (malformed box at byte {offset}).")
            offset += box_size
    if offset > size:
        raise MediaError(f"{_DAMAGED} (the file ends {offset - size:,} bytes short).")
