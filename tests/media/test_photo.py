"""Photo ingest: metadata, upright stripped derivatives, near-duplicate hashes, hostile files."""

import io
import time

import pytest
from photo_samples import MARK, png_header, scene
from PIL import Image
from PIL.TiffImagePlugin import IFDRational as R

from media.errors import MediaError
from media.phash import NEAR_DUPLICATE, distance
from media.photo import JPEG_QUALITY, ingest_photo

# 34°15'36.12" N, 117°11'0.5" E, 12.5 m below sea level, 5 m horizontal error.
GPS = {
    "GPSLatitudeRef": "N",
    "GPSLatitude": (R(34, 1), R(15, 1), R(3612, 100)),
    "GPSLongitudeRef": "E",
    "GPSLongitude": (R(117, 1), R(11, 1), R(1, 2)),
    "GPSAltitudeRef": b"\x01",
    "GPSAltitude": R(125, 10),
    "GPSHPositioningError": R(5, 1),
}
NO_FIX = (R(0, 0), R(0, 0), R(0, 0))
ZERO = (R(0, 1), R(0, 1), R(0, 1))


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _is_mark(pixel, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, MARK, strict=True))


def _corners(image: Image.Image) -> list[bool]:
    """Which corners (top-left, top-right, bottom-left, bottom-right) show the red mark."""
    w, h = image.size
    points = [(3, 3), (w - 4, 3), (3, h - 4), (w - 4, h - 4)]
    return [_is_mark(image.getpixel(p)) for p in points]


def test_probe_reads_location_time_and_device(make_photo):
    times = {"DateTimeOriginal": "2025:03:14 09:30:05", "OffsetTimeOriginal": "+08:00"}
    path = make_photo(gps=GPS, times=times, make="Xiaomi", model="22081212C")
    probe = ingest_photo(path)
    assert probe["format"] == "jpeg" and (probe["width"], probe["height"]) == (400, 300)
    assert probe["gps"] == {"lat": 34.2600333, "lon": 117.1834722, "alt": -12.5, "accuracy_m": 5.0}
    assert probe["captured_at"] == "2025-03-14T09:30:05+08:00"
    assert probe["captured_at_offset"] == "+08:00"
    assert probe["device"] == {"make": "Xiaomi", "model": "22081212C"}


def test_south_and_west_references_give_negative_coordinates(make_photo):
    gps = {**GPS, "GPSLatitudeRef": "S", "GPSLongitudeRef": "W", "GPSAltitudeRef": b"\x00"}
    probe = ingest_photo(make_photo(gps=gps))
    assert (probe["gps"]["lat"], probe["gps"]["lon"], probe["gps"]["alt"]) == (
        -34.2600333,
        -117.1834722,
        12.5,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"GPSLatitude": NO_FIX, "GPSLongitude": NO_FIX},
        {"GPSLatitude": NO_FIX},
        {"GPSLatitudeRef": "", "GPSLongitudeRef": ""},
        {"GPSLongitudeRef": ""},
        {"GPSLatitude": ZERO, "GPSLongitude": ZERO},
    ],
    ids=["zero-denominators", "one-zero-denominator", "empty-refs", "one-empty-ref", "zero-zero"],
)
def test_phone_without_a_fix_has_no_location(make_photo, change):
    probe = ingest_photo(make_photo(gps={**GPS, **change}))
    assert probe["gps"] is None


def test_capture_time_without_offset_is_naive_local_time(make_photo):
    probe = ingest_photo(make_photo(times={"DateTimeOriginal": "2025:03:14 09:30:05"}))
    assert (probe["captured_at"], probe["captured_at_offset"]) == ("2025-03-14T09:30:05", None)


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (
            {"DateTimeDigitized": "2025:03:14 10:00:00", "OffsetTimeDigitized": "+08:00"},
            "10:00:00+08:00",
        ),
        ({"DateTime": "2025:03:14 11:00:00"}, "11:00:00"),
        (
            {"DateTimeOriginal": "0000:00:00 00:00:00", "DateTime": "2025:03:14 12:00:00"},
            "12:00:00",
        ),
    ],
    ids=["digitized", "changed", "blank-original"],
)
def test_capture_time_falls_back_to_other_time_tags(make_photo, times, expected):
    probe = ingest_photo(make_photo(times=times))
    assert probe["captured_at"] == "2025-03-14T" + expected


def test_photo_without_exif_probes_with_empty_fields(make_photo):
    probe = ingest_photo(make_photo("plain.png"))
    assert probe["format"] == "png"
    assert [probe[k] for k in ("orientation", "captured_at", "gps", "device")] == [None] * 4


@pytest.mark.parametrize("name", ["rotated.jpg", "rotated.heic", "rotated.avif", "rotated.webp"])
def test_orientation_6_is_applied_exactly_once(make_photo, name):
    # Stored landscape with the mark top-left; orientation 6 shows it turned 90° clockwise.
    # pillow-heif writes that as irot and keeps EXIF 6, like a phone: honouring both would
    # turn the HEIC twice.
    path = make_photo(name, orientation=6)
    probe = ingest_photo(path)
    assert probe["orientation"] == 6
    assert (probe["width"], probe["height"]) == (300, 400)
    for data in ingest_photo(path, sizes=(320, 1600))["derivatives"].values():
        image = _open(data)
        assert image.size in ((240, 320), (300, 400))
        assert _corners(image) == [False, True, False, False]


def test_derivatives_fit_the_sizes_and_carry_no_metadata(make_photo):
    path = make_photo(image=scene(2, (2000, 1500)), gps=GPS, make="Xiaomi", orientation=1)
    derivatives = ingest_photo(path)["derivatives"]
    sizes = {size: _open(data).size for size, data in derivatives.items()}
    assert sizes == {320: (320, 240), 2048: (2000, 1500)}
    for data in derivatives.values():
        image = _open(data)
        assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
        assert b"Xiaomi" not in data


def test_a_phone_photo_s_preview_is_its_half_scale_decode_untouched(make_photo):
    # A 12-megapixel phone photo: its half, as the JPEG decoder gives it, is the preview;
    # resampled on to a smaller size it lost detail and cost 40 % of the ingest.
    path = make_photo(image=scene(5, (4000, 3000)), quality=92)
    derivatives = ingest_photo(path)["derivatives"]
    with Image.open(path) as photo:
        photo.draft("RGB", (2000, 1500))
        half = io.BytesIO()
        photo.save(half, "JPEG", quality=JPEG_QUALITY)
    assert _open(derivatives[2048]).size == (2000, 1500)
    assert derivatives[2048] == half.getvalue()
    assert _open(derivatives[320]).size == (320, 240)


@pytest.mark.parametrize(("size", "preview"), [
    ((5000, 3750), (2048, 1536)),  # its half is larger than the box: resized to fit
    ((3000, 2250), (2048, 1536)),  # its half would be too small: decoded whole, resized
    ((3264, 2448), (1632, 1224)),  # an 8-megapixel camera: its half is large enough
])
def test_previews_fit_the_box(make_photo, size, preview):
    derivatives = ingest_photo(make_photo(image=scene(6, size)))["derivatives"]
    assert _open(derivatives[2048]).size == preview


def test_small_photo_is_never_enlarged(make_photo):
    derivatives = ingest_photo(make_photo(image=scene(3, (300, 200))))["derivatives"]
    assert {size: _open(data).size for size, data in derivatives.items()} == {
        320: (300, 200),
        2048: (300, 200),
    }


def test_transparent_png_is_flattened_onto_white(make_photo):
    image = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    photo = make_photo("clear.png", image=image)
    derivative = ingest_photo(photo, sizes=(320,))["derivatives"][320]
    assert all(channel > 245 for channel in _open(derivative).getpixel((50, 40)))


def test_format_comes_from_content_not_name(make_photo, tmp_path):
    png = make_photo("really.png")
    disguised = tmp_path / "photo.jpg"
    disguised.write_bytes(png.read_bytes())
    assert ingest_photo(disguised)["format"] == "png"


def test_ingest_gives_probe_derivatives_and_hash_in_one_call(make_photo):
    path = make_photo(image=scene(4, (2000, 1500)), gps=GPS, orientation=6)
    result = ingest_photo(path)
    assert result["gps"]["lat"] == 34.2600333 and result["orientation"] == 6
    assert _open(result["derivatives"][2048]).size == (1500, 2000)
    assert _open(result["derivatives"][320]).size == (240, 320)
    assert len(result["phash"]) == 16 and int(result["phash"], 16) >= 0


def test_reencoded_and_resized_copy_is_a_near_duplicate(make_photo):
    original = ingest_photo(make_photo("a.jpg", image=scene(5, (1200, 900)), quality=95))["phash"]
    copy = scene(5, (1200, 900)).resize((500, 375))
    again = ingest_photo(make_photo("b.jpg", image=copy, quality=35))["phash"]
    assert distance(original, again) <= NEAR_DUPLICATE // 2


def test_turned_photo_matches_its_upright_copy(make_photo):
    upright = scene(6).transpose(Image.Transpose.ROTATE_270)
    turned = ingest_photo(make_photo("turned.jpg", image=scene(6), orientation=6))["phash"]
    assert distance(turned, ingest_photo(make_photo("upright.jpg", image=upright))["phash"]) \
        <= NEAR_DUPLICATE


def test_different_scenes_are_not_near_duplicates(make_photo):
    hashes = [
        ingest_photo(make_photo(f"{seed}.jpg", image=scene(seed)))["phash"]
        for seed in range(10, 16)
    ]
    for i, a in enumerate(hashes):
        for b in hashes[i + 1 :]:
            assert distance(a, b) > NEAR_DUPLICATE, (a, b)


def _truncated(make_photo) -> bytes:
    data = make_photo(image=scene(7, (800, 600))).read_bytes()
    return data[: len(data) * 6 // 10]


def _garbage_body(make_photo) -> bytes:
    data = make_photo().read_bytes()
    return data[: data.index(b"\xff\xda")] + bytes(range(256)) * 40  # sound headers, noise after


HOSTILE = {
    "zero-length": lambda _: b"",
    "text-named-jpg": lambda _: "巡查记录：办公室无人值守\n".encode(),
    "wrong-magic": lambda _: b"\xff\xd9\x00\x10JFIF" + bytes(200),
    "video-named-jpg": lambda _: b"\x00\x00\x00\x18ftypmp42" + bytes(64),
    "truncated-jpeg": _truncated,
    "garbage-jpeg-body": _garbage_body,
    "pixel-bomb-900mp": lambda _: png_header(30000, 30000),
    "pixel-bomb-120mp": lambda _: png_header(12000, 10000),  # Pillow only warns here
    "png-header-only": lambda _: png_header(640, 480),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_file_is_a_readable_media_error_quickly(make_photo, tmp_path, kind):
    path = tmp_path / "evidence.jpg"
    path.write_bytes(HOSTILE[kind](make_photo))
    started = time.monotonic()
    with pytest.raises(MediaError) as caught:
        ingest_photo(path)
    assert str(caught.value) and str(tmp_path) not in str(caught.value)
    assert time.monotonic() - started < 5


def test_pixel_limit_is_configurable(make_photo):
    path = make_photo(image=scene(8, (400, 300)))
    with pytest.raises(MediaError, match="too many pixels"):
        ingest_photo(path, max_pixels=100_000)
    assert ingest_photo(path, max_pixels=120_000)["width"] == 400


@pytest.mark.parametrize(
    "block",
    [
        b"Exif\x00\x00" + bytes(range(256)) * 4,
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x88\x25\x00\x04" * 200,
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x02\x00\x25\x88\x04\x00\x01\x00\x00\x00\x08\x00\x00\x00",
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",
    ],
    ids=["noise", "huge-ifd", "gps-ifd-loops-to-itself", "offset-past-end"],
)
def test_garbage_exif_loses_only_the_metadata(make_photo, block):
    result = ingest_photo(make_photo("garbage.jpg", exif=block))
    assert (result["width"], result["height"]) == (400, 300)
    assert result["gps"] is None and result["captured_at"] is None
    assert _corners(_open(result["derivatives"][320]))[0]


def test_a_clean_jpeg_keeps_the_picture_and_nothing_else():
    """What leaves the bureau in a bulletin: upright, smaller, no EXIF, no GPS."""
    from media.photo import clean_jpeg
    from tests.media.photo_samples import exif_for, scene

    gps = {"GPSLatitudeRef": "N", "GPSLatitude": (34.0, 15.0, 36.0)}
    source = io.BytesIO()
    scene(4, (2400, 1200)).save(source, "JPEG", exif=exif_for(
        orientation=6, make="HUAWEI", gps=gps).tobytes())
    clean = Image.open(io.BytesIO(clean_jpeg(source.getvalue(), max_px=800)))
    assert clean.format == "JPEG" and clean.size == (400, 800)  # turned upright, shrunk
    assert len(clean.getexif()) == 0 and "exif" not in clean.info

