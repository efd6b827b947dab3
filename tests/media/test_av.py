"""Audio and video evidence: probing, poster frames and playable previews, hostile files."""

import shutil
import time

import avfiles
import pytest
from PIL import Image

from media.av import make_poster, make_preview, probe_av
from media.av_tags import is_browser_playable, parse_iso6709, parse_time
from media.errors import MediaError


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Every recording the tests read, made once for the module."""
    folder = tmp_path_factory.mktemp("av")
    files = avfiles.make_videos(folder) | avfiles.make_audio(folder)
    return files | avfiles.make_hostile(folder, files["android.mp4"])


def test_android_video_has_location_time_and_size(media):
    info = probe_av(media["android.mp4"])
    assert info["kind"] == "video" and info["container"] == "mp4"
    assert info["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert info["gps"] == {"lat": 34.26, "lon": 117.19}
    assert info["captured_at"] == "2024-11-05T09:30:00+00:00"
    assert (info["width"], info["height"]) == (320, 240)
    assert (info["video_codec"], info["audio_codec"]) == ("h264", "aac")
    assert info["browser_playable"] is True


def test_apple_video_has_altitude_local_time_and_device(media):
    info = probe_av(media["apple.mov"])
    assert info["container"] == "mov"
    assert info["gps"] == {"lat": 34.26, "lon": 117.19, "alt": 45.0}
    assert info["captured_at"] == "2024-11-05T17:30:00+08:00"
    assert info["device"] == {"make": "Apple", "model": "iPhone 13"}
    assert info["browser_playable"] is True


def test_sideways_video_reports_upright_size(media):
    info = probe_av(media["rotated.mp4"])
    assert (info["width"], info["height"]) == (240, 320)


def test_3gp_with_h263_and_amr_needs_a_preview(media):
    info = probe_av(media["feature.3gp"])
    assert (info["container"], info["video_codec"], info["audio_codec"]) == (
        "3gp", "h263", "amr_nb")
    assert info["browser_playable"] is False


def test_webm_without_duration_in_header_is_measured(media):
    info = probe_av(media["recorder.webm"])
    assert (info["container"], info["video_codec"], info["audio_codec"]) == (
        "webm", "vp8", "opus")
    assert info["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert info["browser_playable"] is True


@pytest.mark.parametrize(("name", "container", "codec", "playable"), [
    ("speech.wav", "wav", "pcm_s16le", True),
    ("speech.m4a", "m4a", "aac", True),
    ("cover.mp3", "mp3", "mp3", True),  # its cover picture does not make it a video
    ("voice.webm", "webm", "opus", True),
    ("tone.amr", "amr", "amr_nb", False),
])
def test_audio_is_probed(media, name, container, codec, playable):
    info = probe_av(media[name])
    assert (info["kind"], info["container"], info["audio_codec"]) == ("audio", container, codec)
    assert info["duration_s"] > 1.5
    assert info["browser_playable"] is playable
    assert info["width"] is None and info["video_codec"] is None


def test_name_starting_with_a_dash_is_a_file_not_an_option(media, tmp_path, monkeypatch):
    shutil.copy(media["android.mp4"], tmp_path / "-y.mp4")
    monkeypatch.chdir(tmp_path)
    assert probe_av("-y.mp4")["kind"] == "video"


def test_poster_is_a_jpeg_no_larger_than_asked(media, tmp_path):
    make_poster(media["android.mp4"], tmp_path / "poster.jpg", max_side=160)
    with Image.open(tmp_path / "poster.jpg") as poster:
        assert (poster.format, poster.size) == ("JPEG", (160, 120))


def test_poster_of_sideways_video_stands_upright(media, tmp_path):
    make_poster(media["rotated.mp4"], tmp_path / "poster.jpg")
    with Image.open(tmp_path / "poster.jpg") as poster:
        assert poster.size == (240, 320)


@pytest.mark.parametrize(("name", "kind", "mime"), [
    ("feature.3gp", "video", "video/mp4"),
    ("rotated.mp4", "video", "video/mp4"),
    ("tone.amr", "audio", "audio/mp4"),
])
def test_preview_plays_in_browsers(media, tmp_path, name, kind, mime):
    out = tmp_path / "preview"
    assert make_preview(media[name], out, kind) == mime
    info = probe_av(out)
    assert info["kind"] == kind and info["browser_playable"] is True
    assert info["gps"] is None  # the preview does not spread the location
    if name == "rotated.mp4":
        assert (info["width"], info["height"]) == (240, 320)


def test_failed_preview_leaves_no_file_behind(media, tmp_path):
    with pytest.raises(MediaError):
        make_preview(media["noise.mp4"], tmp_path / "preview.mp4", "video", duration_s=2)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "words"), [
    ("truncated.mp4", "damaged"),
    ("truncated-faststart.mp4", "short"),
    ("empty.mp4", "empty"),
    ("noise.mp4", "damaged"),
    ("note.mp4", "damaged"),
])
def test_hostile_file_is_refused_quickly_with_a_reason(media, name, words):
    started = time.monotonic()
    with pytest.raises(MediaError, match=words) as refused:
        probe_av(media[name])
    assert time.monotonic() - started < 5
    assert str(media[name].parent) not in str(refused.value)  # no storage paths for people


def test_recording_longer_than_allowed_is_refused(media):
    with pytest.raises(MediaError, match="2 s long; at most 1 s"):
        probe_av(media["android.mp4"], max_duration_s=1)


def test_video_with_too_many_pixels_is_refused(media):
    with pytest.raises(MediaError, match="320×240"):
        probe_av(media["android.mp4"], max_pixels=320 * 240 - 1)


def test_probe_that_hangs_is_stopped(media):
    with pytest.raises(MediaError, match="stopped"):
        probe_av(media["android.mp4"], timeout_s=0.001)


@pytest.mark.parametrize(("text", "expected"), [
    ("+34.2600+117.1900/", {"lat": 34.26, "lon": 117.19}),
    ("-33.8688+151.2093+012.5/", {"lat": -33.8688, "lon": 151.2093, "alt": 12.5}),
    ("+3415.60+11711.40/", {"lat": pytest.approx(34.26), "lon": pytest.approx(117.19)}),
    ("+341536+1171124/", {"lat": pytest.approx(34.26), "lon": pytest.approx(117.19)}),
    ("+00.0000+000.0000/", None),
    ("+95.0000+117.1900/", None),
    ("somewhere", None),
    (None, None),
])
def test_iso6709_locations(text, expected):
    assert parse_iso6709(text) == expected


def test_unset_phone_clock_is_no_capture_time():
    assert parse_time("1970-01-01T00:00:00.000000Z") is None
    assert parse_time("not a date") is None


@pytest.mark.parametrize(("container", "video", "audio", "playable"), [
    ("mp4", {"codec_name": "hevc", "pix_fmt": "yuv420p"}, {"codec_name": "aac"}, False),
    ("mp4", {"codec_name": "h264", "pix_fmt": "yuv420p10le"}, None, False),
    ("mov", {"codec_name": "h264", "pix_fmt": "yuv420p"}, None, True),
    ("3gp", {"codec_name": "h264", "pix_fmt": "yuv420p"}, {"codec_name": "aac"}, False),
    ("webm", {"codec_name": "vp9"}, {"codec_name": "vorbis"}, True),
    ("matroska", {"codec_name": "h264", "pix_fmt": "yuv420p"}, None, False),
    ("3gp", None, {"codec_name": "amr_nb"}, False),
    ("ogg", None, {"codec_name": "opus"}, True),
])
def test_browser_playable_rule(container, video, audio, playable):
    assert is_browser_playable(container, video, audio) is playable
