"""Short recordings like the phones make, generated with ffmpeg and espeak-ng (never downloaded)."""

import random
import subprocess
from pathlib import Path

FFMPEG = ["ffmpeg", "-nostdin", "-y", "-v", "error"]
PICTURE = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15:duration=2"]
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
XUZHOU = "+34.2600+117.1900"
TAKEN_UTC = "2024-11-05T09:30:00Z"


def ffmpeg(*args) -> None:
    """Run ffmpeg quietly; fail the test run loudly if it fails."""
    subprocess.run([*FFMPEG, *map(str, args)], check=True, timeout=60)


def write_amr(out: Path, seconds: float = 2.0) -> Path:
    """An AMR-NB file written by hand: Debian's ffmpeg decodes AMR but cannot encode it."""
    frames = random.Random(7)
    # Each 20 ms frame at 12.2 kbit/s is a 0x3C header and 31 bytes the decoder accepts as speech.
    body = b"".join(b"\x3c" + frames.randbytes(31) for _ in range(int(seconds * 50)))
    out.write_bytes(b"#!AMR\n" + body)
    return out


def write_speech(out: Path) -> Path:
    """A spoken Mandarin finding as WAV, the way a supervisor dictates one."""
    subprocess.run(["espeak-ng", "-v", "zh", "上班时间离岗", "-w", str(out)], check=True,
                   timeout=60)
    return out


def make_videos(folder: Path) -> dict[str, Path]:
    """Android MP4, Apple MOV, a sideways MP4, an old 3GP and a recorder-style WebM."""
    f = {name: folder / name for name in
         ("android.mp4", "apple.mov", "rotated.mp4", "feature.3gp", "recorder.webm")}
    ffmpeg(*PICTURE, *TONE, *H264, "-c:a", "aac", "-metadata", f"location={XUZHOU}/",
           "-metadata", f"creation_time={TAKEN_UTC}", f["android.mp4"])
    ffmpeg(*PICTURE, *TONE, *H264, "-c:a", "aac",
           "-metadata", f"com.apple.quicktime.location.ISO6709={XUZHOU}+045.000/",
           "-metadata", "com.apple.quicktime.creationdate=2024-11-05T17:30:00+0800",
           "-metadata", "com.apple.quicktime.make=Apple",
           "-metadata", "com.apple.quicktime.model=iPhone 13",
           "-movflags", "use_metadata_tags", f["apple.mov"])
    # ffmpeg 5.1 keeps a rotate tag only when copying streams, as a phone's display matrix.
    ffmpeg("-i", f["android.mp4"], "-c", "copy", "-metadata:s:v:0", "rotate=90", f["rotated.mp4"])
    amr = write_amr(folder / "for-3gp.amr")
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=176x144:rate=15:duration=2", "-i", amr,
           "-c:v", "h263", "-c:a", "copy", "-shortest", f["feature.3gp"])
    # Browsers' MediaRecorder streams WebM, so its header has no duration; a pipe does the same.
    webm = subprocess.run([*FFMPEG, *PICTURE, *TONE, "-c:v", "libvpx", "-deadline", "realtime",
                           "-cpu-used", "8", "-c:a", "libopus", "-f", "webm", "pipe:1"],
                          capture_output=True, check=True, timeout=60).stdout
    f["recorder.webm"].write_bytes(webm)
    return f


def make_audio(folder: Path) -> dict[str, Path]:
    """Speech as WAV, M4A, MP3 with a cover picture and WebM/Opus; a tone as AMR."""
    f = {"speech.wav": write_speech(folder / "speech.wav"), "tone.amr": write_amr(
        folder / "tone.amr")}
    f["speech.m4a"] = folder / "speech.m4a"
    ffmpeg("-i", f["speech.wav"], "-c:a", "aac", f["speech.m4a"])
    f["cover.mp3"] = folder / "cover.mp3"
    ffmpeg("-i", f["speech.wav"], "-f", "lavfi", "-i", "color=c=red:size=64x64:d=0.1",
           "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "libmp3lame",
           "-c:v", "mjpeg", "-disposition:v", "attached_pic", f["cover.mp3"])
    f["voice.webm"] = folder / "voice.webm"
    ffmpeg("-i", f["speech.wav"], "-c:a", "libopus", f["voice.webm"])
    return f


def make_hostile(folder: Path, whole_mp4: Path) -> dict[str, Path]:
    """Files that must fail cleanly: cut short, empty, noise, text dressed as MP4."""
    data = whole_mp4.read_bytes()
    f = {name: folder / name for name in ("truncated.mp4", "truncated-faststart.mp4",
                                          "empty.mp4", "noise.mp4", "note.mp4")}
    f["truncated.mp4"].write_bytes(data[: len(data) // 2])
    faststart = folder / "faststart.mp4"
    ffmpeg("-i", whole_mp4, "-c", "copy", "-movflags", "+faststart", faststart)
    f["truncated-faststart.mp4"].write_bytes(faststart.read_bytes()[: len(data) // 2])
    f["empty.mp4"].write_bytes(b"")
    f["noise.mp4"].write_bytes(random.Random(11).randbytes(64 * 1024))
    f["note.mp4"].write_text("上班时间离岗，未履行外出报批手续\n" * 50, encoding="utf-8")
    return f
