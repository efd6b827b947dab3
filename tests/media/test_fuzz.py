"""Fuzzing the media library: damaged, truncated and hostile photos and recordings go
through the pipeline's entry points and come out as a result or a MediaError, never a
crash, a hang or a runaway allocation.

`make test` runs a few hundred fixed cases (derandomized, no example database). `make
fuzz` sets MINGCHA_FUZZ_EXAMPLES to the total number of cases wanted (at least 10,000),
draws them at random, keeps failures in a database in the temp folder and prints the
figures: cases, time, peak memory (see fuzzing.Stats).
"""

import io
import struct
import time
import tracemalloc

import avfiles
import pytest
from fuzzing import (
    PNG_EXIF_CHUNKS,
    STATS,
    TOOL_SECONDS,
    Seed,
    apply,
    database_dir,
    describe,
    describe_tiff,
    dimensions,
    edits,
    examples,
    fix_png_crcs,
    jpeg_with_exif,
    long_run,
    png_with_exif,
    reset_high_water,
    status_bytes,
    tiff_blocks,
    truncations,
    watch,
    with_dimensions,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from photo_samples import exif_for, png_header, scene
from PIL import Image
from PIL.TiffImagePlugin import IFDRational as R

import media.av_derive
import media.av_probe
from media.av import make_poster, make_preview, probe_av
from media.errors import MediaError
from media.exif import read_exif
from media.photo import DERIVATIVE_SIZES, ingest_photo
from media.sniff import sniff_file

GPS = {"GPSLatitudeRef": "N", "GPSLatitude": (R(34, 1), R(15, 1), R(3612, 100)),
       "GPSLongitudeRef": "E", "GPSLongitude": (R(117, 1), R(11, 1), R(1, 2)),
       "GPSAltitudeRef": b"\x01", "GPSAltitude": R(125, 10), "GPSHPositioningError": R(5, 1)}
TIMES = {"DateTimeOriginal": "2025:03:14 09:30:05", "OffsetTimeOriginal": "+08:00"}
CLIP = ["-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=1"]
BEEP = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
AAC = ["-c:a", "aac", "-b:a", "32k"]
AV_MAX_PIXELS = 8_294_400  # probe_av's default: 4K

FUZZ = settings(
    deadline=None,
    derandomize=not long_run(),
    database=DirectoryBasedExampleDatabase(database_dir()) if long_run() else None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    # No "explain" phase: it traces every line, which makes a slow case slower still.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)


@pytest.fixture(scope="session")
def seeds(tmp_path_factory) -> dict[str, Seed]:
    """Small valid files like the phones send, made once: a JPEG, PNG and HEIC with EXIF
    (GPS, time, device, orientation), an H.264/AAC MP4, a MOV with Apple's location tags,
    an M4A."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    exif = exif_for(orientation=6, gps=GPS, make="Xiaomi", model="22081212C",
                    times=TIMES).tobytes()
    image = scene(9, (160, 120))
    photos = {}
    for name, fmt, options in (("seed.jpg", "JPEG", {"quality": 80}), ("seed.png", "PNG", {}),
                               ("seed.heic", "HEIF", {"quality": 50})):
        out = io.BytesIO()
        image.save(out, fmt, exif=exif, **options)
        photos[name] = out.getvalue()
    avfiles.ffmpeg(*CLIP, *BEEP, *avfiles.H264, *AAC, "-metadata",
                   f"location={avfiles.XUZHOU}/", "-metadata",
                   f"creation_time={avfiles.TAKEN_UTC}", "-movflags", "+faststart",
                   folder / "seed.mp4")
    avfiles.ffmpeg(*CLIP, *BEEP, *avfiles.H264, *AAC,
                   "-metadata", f"com.apple.quicktime.location.ISO6709={avfiles.XUZHOU}+045.000/",
                   "-metadata", "com.apple.quicktime.creationdate=2024-11-05T17:30:00+0800",
                   "-metadata", "com.apple.quicktime.make=Apple",
                   "-metadata", "com.apple.quicktime.model=iPhone 13",
                   "-movflags", "use_metadata_tags", folder / "seed.mov")
    avfiles.ffmpeg(*BEEP, *AAC, folder / "seed.m4a")
    found = {name: describe(name, "photo", data) for name, data in photos.items()}
    for name, kind in (("seed.mp4", "video"), ("seed.mov", "video"), ("seed.m4a", "audio")):
        found[name] = describe(name, kind, (folder / name).read_bytes())
    jpeg = found["seed.jpg"].data
    start = jpeg.index(b"Exif\x00\x00") + 6
    found["exif"] = describe_tiff(jpeg[start : start + int.from_bytes(jpeg[4:6], "big") - 8])
    assert all(len(seed.data) < 64 * 1024 for seed in found.values())
    return found


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder for the case files, and every ffmpeg run capped at TOOL_SECONDS: a hang
    shows as a failure in seconds, not after the production timeouts of minutes."""
    original = media.av_probe.run_tool

    def capped(args, *, timeout_s, what):
        return original(args, timeout_s=min(timeout_s, TOOL_SECONDS), what=what)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(media.av_probe, "run_tool", capped)
        patch.setattr(media.av_derive, "run_tool", capped)
        yield tmp_path_factory.mktemp("fuzz-cases")


def examine(path, folder) -> dict:
    """What server/evidence/pipeline.py does with a stored original, by the sniffed kind:
    a photo is ingested; a recording is probed, a video gets a poster. A preview is made
    for every recording, not only those browsers cannot play, to decode the whole file."""
    found = sniff_file(path)
    if found is None:
        raise MediaError("The file is not a photo, audio or video format Mingcha accepts.")
    if found.kind == "photo":
        info = ingest_photo(path)
        _check_photo(info)
        return info
    info = probe_av(path)
    _check_recording(info)
    if found.kind == "video":
        make_poster(path, folder / "poster.jpg", duration_s=info["duration_s"])
        with Image.open(folder / "poster.jpg") as poster:
            assert poster.format == "JPEG" and max(poster.size) <= 1600
    name = "preview.mp4" if found.kind == "video" else "preview.m4a"
    make_preview(path, folder / name, found.kind, duration_s=info["duration_s"])
    assert (folder / name).stat().st_size > 0
    return info


def _check_photo(info: dict) -> None:
    assert info["width"] >= 1 and info["height"] >= 1
    assert info["width"] * info["height"] <= 100_000_000
    assert info["orientation"] in (None, *range(1, 9))
    assert len(info["phash"]) == 16 and int(info["phash"], 16) >= 0
    if info["gps"] is not None:
        assert abs(info["gps"]["lat"]) <= 90 and abs(info["gps"]["lon"]) <= 180
    assert set(info["derivatives"]) == set(DERIVATIVE_SIZES)
    for box, data in info["derivatives"].items():
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and max(image.size) <= box and "exif" not in image.info


def _check_recording(info: dict) -> None:
    assert 0 < info["duration_s"] <= 3600
    assert info["kind"] in ("audio", "video")
    if info["kind"] == "video":
        assert info["width"] * info["height"] <= AV_MAX_PIXELS


def run_case(test: str, data: bytes, work, kind: str = "photo"):
    """One case through `examine`, watched; the outcome (result or MediaError) is checked."""
    folder = work / "case"
    if folder.exists():
        for leftover in folder.iterdir():
            leftover.unlink()
    folder.mkdir(exist_ok=True)
    path = folder / "original"
    path.write_bytes(data)
    outcome = watch(test, kind, lambda: examine(path, folder), MediaError)
    if isinstance(outcome, MediaError):
        message = str(outcome)
        assert message.strip(), "a MediaError must say why"
        assert str(work) not in message, f"a path in the message: {message}"
        assert "was stopped" not in message, f"ffmpeg hung: {message}"
    return outcome


PHOTOS = ("seed.jpg", "seed.png", "seed.heic")
RECORDINGS = ("seed.mp4", "seed.mov", "seed.m4a")


@settings(FUZZ, max_examples=examples(0.33, 110))
@given(data=st.data())
def test_photo_with_damaged_headers(seeds, work, data):
    seed = seeds[data.draw(st.sampled_from(PHOTOS), label="seed")]
    mutated = apply(seed.data, data.draw(edits(seed), label="edits"))
    if seed.name == "seed.png" and data.draw(st.booleans(), label="fix CRCs"):
        mutated = fix_png_crcs(mutated)
    run_case("photo headers", mutated, work)


@settings(FUZZ, max_examples=examples(0.12, 50))
@given(data=st.data())
def test_photo_cut_short(seeds, work, data):
    seed = seeds[data.draw(st.sampled_from(PHOTOS), label="seed")]
    run_case("photo truncated", seed.data[: data.draw(truncations(seed), label="cut")], work)


@settings(FUZZ, max_examples=examples(0.22, 80))
@given(data=st.data())
def test_photo_with_hostile_exif(seeds, work, data):
    exif = seeds["exif"]
    tiff = data.draw(st.one_of(tiff_blocks(), edits(exif).map(lambda ops: apply(exif.data, ops))),
                     label="TIFF block")
    container = data.draw(st.sampled_from(["JPEG APP1", *PNG_EXIF_CHUNKS]), label="in")
    if container == "JPEG APP1":
        run_case("EXIF", jpeg_with_exif(seeds["seed.jpg"].data, tiff), work)
    else:
        run_case("EXIF", png_with_exif(seeds["seed.png"].data, tiff, container), work)


@settings(FUZZ, max_examples=examples(0.15, 50))
@given(data=st.data())
def test_photo_claiming_huge_dimensions(seeds, work, data):
    seed = seeds[data.draw(st.sampled_from(PHOTOS), label="seed")]
    width, height = data.draw(dimensions(seed.dims[0][2]), label="width, height")
    bomb = with_dimensions(seed, width, height)
    if data.draw(st.booleans(), label="cut short"):
        bomb = bomb[: data.draw(truncations(seed), label="cut")]
    outcome = run_case("pixel bombs", bomb, work)
    if not isinstance(outcome, MediaError):
        assert outcome["width"] * outcome["height"] <= width * height


@settings(FUZZ, max_examples=examples(0.12, 24))
@given(data=st.data())
def test_recording_with_damaged_headers(seeds, work, data):
    seed = seeds[data.draw(st.sampled_from(RECORDINGS), label="seed")]
    mutated = apply(seed.data, data.draw(edits(seed), label="edits"))
    run_case("recording headers", mutated, work, "av")


@settings(FUZZ, max_examples=examples(0.06, 12))
@given(data=st.data())
def test_recording_cut_short(seeds, work, data):
    seed = seeds[data.draw(st.sampled_from(RECORDINGS), label="seed")]
    run_case("recording truncated", seed.data[: data.draw(truncations(seed), label="cut")],
             work, "av")


def test_seeds_pass_whole(seeds, work):
    """The unmutated seeds give results, so the mutations start from files that work."""
    for name in (*PHOTOS, *RECORDINGS):
        seed = seeds[name]
        kind = "photo" if seed.kind == "photo" else "av"
        outcome = run_case("seeds", seed.data, work, kind)
        assert not isinstance(outcome, MediaError), (name, outcome)
    assert STATS.cases >= 6



# --- What the fuzzing found, each as its smallest case ----------------------------------------


@pytest.mark.parametrize("chunk", ["zTXt", "iTXt"])
def test_png_text_chunk_named_exif_is_no_exif(tmp_path, chunk):
    # Pillow hands the text of a zTXt or iTXt chunk named "exif" over as the EXIF block, as
    # a str: read_exif raised TypeError and the media job crashed instead of ingesting.
    plain = io.BytesIO()
    scene(9, (160, 120)).save(plain, "PNG")
    path = tmp_path / "text-exif.png"
    path.write_bytes(png_with_exif(plain.getvalue(), b"LM\x00*\x00\x00\x00\x08", chunk))
    info = ingest_photo(path)
    assert (info["width"], info["height"]) == (160, 120)
    assert [info[k] for k in ("orientation", "captured_at", "gps", "device")] == [None] * 4


@pytest.mark.parametrize(("width", "height"), [(1, 100_000_000), (2, 50_000_000),
                                               (100_000_000, 1)])
def test_thin_image_within_the_pixel_limit_is_refused_before_decoding(tmp_path, width, height):
    # A 100-byte PNG claiming 1×100,000,000 pixels (exactly the limit) made Pillow write a
    # pointer for every row before decoding: 800 MB resident and half a second to refuse.
    path = tmp_path / "thin.png"
    path.write_bytes(png_header(width, height))
    resettable = reset_high_water()
    before = status_bytes("VmRSS")
    with pytest.raises(MediaError, match="a side over 65,535 pixels is not a photo"):
        ingest_photo(path)
    if resettable:
        assert status_bytes("VmHWM") - before < 32 * 2**20


@pytest.mark.parametrize("orientation", [262, 9, 0])
def test_heic_orientation_out_of_range_is_none(make_photo, orientation):
    # One flipped bit turned a HEIC's EXIF orientation 6 into 262; pillow-heif passes any
    # value on unchecked, and the probe reported orientation 262 (0 became 1).
    info = ingest_photo(make_photo("odd.heic", orientation=orientation))
    assert info["orientation"] is None
    assert (info["width"], info["height"]) == (400, 300)


def test_png_chunk_longer_than_the_file_is_refused_without_allocating_it(tmp_path):
    # The smallest case: the image data chunk's length set to 2**31 - 1 in a 2 KB PNG. Pillow
    # decoded the pixels, then read the rest of the declared chunk in one call: 2 GB.
    plain = io.BytesIO()
    scene(9, (160, 120)).save(plain, "PNG")
    data = bytearray(plain.getvalue())
    at = data.index(b"IDAT") - 4
    data[at : at + 4] = (2**31 - 1).to_bytes(4, "big")
    path = tmp_path / "long-chunk.png"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(MediaError, match="a chunk runs past the end of the file"):
            ingest_photo(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


@pytest.mark.parametrize("pointer", [0x8825, 0xA005], ids=["gps-ifd", "interop-ifd"])
def test_exif_pointers_to_an_ifd_claiming_65535_entries_cost_little(pointer):
    # IFD0 claims 65,535 entries and holds pointers to itself (the fuzzing's smallest case
    # had 16). exifread reads every claimed entry, there or not, again for each pointer to a
    # GPS or interoperability IFD: these 800 bytes took it 11 s, 64 KB would take 15 min.
    entries = struct.pack(">HHII", pointer, 4, 1, 8) * 64
    block = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + entries + bytes(4)
    started = time.process_time()
    assert read_exif(block)["gps"] is None
    assert time.process_time() - started < 0.5
