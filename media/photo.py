"""Photos as evidence: open safely, probe metadata, make stripped derivatives and a hash."""

import io
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps

from media.errors import MediaError
from media.exif import read_exif
from media.phash import phash
from media.sniff import Format, sniff_file

DEFAULT_MAX_PIXELS = 100_000_000
# Pillow keeps a pointer per row and writes them all before decoding: a PNG of a hundred bytes
# claiming 1×100,000,000 pixels took 800 MB and half a second. No photo is that long.
MAX_SIDE = 65_535
# A PNG of a phone or an editor has a few dozen chunks, a 100-megapixel one some thousands.
MAX_PNG_CHUNKS = 1_000_000
DERIVATIVE_SIZES = (320, 2048)
# A JPEG decodes at 1/2, 1/4 or 1/8 scale for about the cost of reading its data. The
# largest derivative is such a decode as it comes whenever it covers this share of the
# box: a 12-megapixel phone photo's half, 2000 px, is its preview. Resizing that half to
# 1600 px (as until stop 29) took 40 % of the photo's ingest, and lost detail a reviewer
# reads (a permit's number): bench/ingest_bench.py, bench/load_bench.py.
DECODED_SHARE = 0.78
JPEG_QUALITY = 82
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF", "avif": "AVIF"}
# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# thumbnails=False: an embedded HEIC thumbnail picked by draft() could differ from the photo.
pillow_heif.register_heif_opener(thumbnails=False)


def ingest_photo(
    path: str | Path, sizes: Iterable[int] = DERIVATIVE_SIZES, *, max_pixels=DEFAULT_MAX_PIXELS
) -> dict:
    """Format, upright size, orientation, capture time, GPS and device, plus upright
    JPEG "derivatives" without metadata (keyed by box size) and the "phash", from a
    single decode."""
    with _open(path, max_pixels) as (fmt, im):
        probe = _probe(fmt, im)
        images = _derive(im, _upright(fmt, probe["orientation"]), sizes)
    smallest = images[min(images)]
    derivatives = {size: _jpeg(image) for size, image in images.items()}
    return {**probe, "derivatives": derivatives, "phash": phash(smallest)}


@contextmanager
def _open(path: str | Path, max_pixels: int) -> Iterator[tuple[Format, Image.Image]]:
    try:
        fmt = sniff_file(path)
    except OSError as exc:
        raise MediaError("file cannot be read") from exc
    if fmt is None or fmt.kind != "photo":
        raise MediaError("not a photo in an allowed format (JPEG, PNG, WebP, HEIC, AVIF)")
    if fmt.name == "png":
        _check_png_chunks(path)
    # Pillow reads its bomb limit from this global; every caller sets it before opening.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        # Pillow complains of corrupt EXIF with UserWarnings; read_exif reports it as missing.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        # Pillow only warns between the limit and twice the limit; both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(path, formats=[_PIL_FORMATS[fmt.name]])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(max_pixels) from exc
        except Exception as exc:  # decoders raise any type on hostile input
            # Pillow's messages name the stored path; reviewers see only what went wrong.
            raise MediaError(f"{fmt.name.upper()} image is damaged or not an image") from exc
        with im:
            if im.width * im.height > max_pixels:
                raise _too_many_pixels(max_pixels)
            if max(im.size) > MAX_SIDE:
                raise MediaError(f"image is {im.width:,}×{im.height:,} pixels: "
                                 f"a side over {MAX_SIDE:,} pixels is not a photo")
            yield fmt, im


def _check_png_chunks(path: str | Path) -> None:
    """Refuse a PNG whose chunks run past the end of the file, before Pillow reads it.

    Pillow trusts a chunk's declared length: after decoding it reads what is left of the
    last image data chunk in one call, so a 2 KB file declaring a 2 GB chunk had it allocate
    2 GB."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, io.SEEK_END)
            offset = 8  # the signature
            for _ in range(MAX_PNG_CHUNKS):
                file.seek(offset)
                head = file.read(8)
                if len(head) < 8:
                    return  # no IEND: Pillow decides whether the pixels are all there
                offset += 12 + int.from_bytes(head[:4], "big")  # length, type, data, CRC
                if offset > size:
                    raise MediaError("PNG image is damaged or cut short: a chunk runs past "
                                     "the end of the file")
                if head[4:] == b"IEND":
                    return
    except OSError as exc:
        raise MediaError("file cannot be read") from exc
    raise MediaError(f"PNG image is damaged: over {MAX_PNG_CHUNKS:,} chunks")


def _too_many_pixels(max_pixels: int) -> MediaError:
    return MediaError(f"image has too many pixels (over {max_pixels / 1e6:g} megapixels)")


def _probe(fmt: Format, im: Image.Image) -> dict:
    meta = read_exif(im.info.get("exif"))
    width, height = im.size
    if fmt.name == "heic":
        # pillow-heif hands over upright pixels and resets EXIF orientation to 1; keep the original.
        # It reads that unchecked (any 16-bit value, a digit from XMP): out of range is none.
        original = im.info.get("original_orientation")
        if original is not None:
            meta["orientation"] = original if original in range(1, 9) else None
    elif meta["orientation"] in (5, 6, 7, 8):
        width, height = height, width
    return {"format": fmt.name, "mime": fmt.mime, "width": width, "height": height, **meta}


def _upright(fmt: Format, orientation: int | None) -> Image.Transpose | None:
    if fmt.name == "heic":
        return None  # libheif already applied irot/imir: turning it again would turn it twice
    return _UPRIGHT.get(orientation)


def _derive(im: Image.Image, upright, sizes: Iterable[int]) -> dict[int, Image.Image]:
    """Decode once for the largest size, turn upright once, derive each smaller size from
    it. The largest fits its box, and is not resampled when a scaled decode of a JPEG
    covers DECODED_SHARE of the box."""
    sizes = sorted({int(s) for s in sizes}, reverse=True)
    image = _decode(im, _fit(im.size, round(sizes[0] * DECODED_SHARE)), sizes[0])
    if upright is not None:
        image = image.transpose(upright)
    images = {}
    for size in sizes:
        image = _shrink(image, _fit(image.size, size))
        images[size] = image
    return images


def _decode(im: Image.Image, target: tuple[int, int], box: int) -> Image.Image:
    """The picture at ``target`` size or a little more (a JPEG's scaled decode), within
    ``box``."""
    try:
        # JPEG decodes straight to 1/2, 1/4 or 1/8 scale, as long as that still covers target.
        im.draft("RGB", target)
        im.load()
        image = _flatten(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError("image has too many pixels") from exc
    except Exception as exc:  # decoders raise any type on hostile input
        raise MediaError("image data is damaged or truncated") from exc
    image = _shrink(image, _fit(image.size, box))
    # The opened file's pixels die with it on close; hand on an image of our own.
    return im.copy() if image is im else image


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return im.convert("RGB")


def _shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if size == image.size:
        return image
    # BICUBIC looks like LANCZOS at these ratios for ~2/3 of the cost (bench/ingest_bench.py);
    # reducing_gap lets a cheap integer box reduce do most of a large shrink first.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """`size` scaled to fit a box x box square, never enlarged."""
    width, height = size
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _jpeg(image: Image.Image) -> bytes:
    # Saved without exif/xmp/icc: derivatives carry no GPS or device data, only upright pixels.
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def clean_jpeg(data: bytes, max_px: int = 1000, quality: int = 82) -> bytes:
    """The photo re-encoded as a JPEG upright and at most ``max_px`` on its longer side,
    with no metadata at all: no EXIF, no GPS, no maker notes (for documents that leave
    the bureau). A JPEG is decoded straight at the smaller size (DCT scaling)."""
    with Image.open(io.BytesIO(data)) as im:
        if im.format == "JPEG":  # the smallest DCT scale at least as large as the result
            scale = min(1.0, max_px / max(im.size))
            im.draft("RGB", (int(im.width * scale), int(im.height * scale)))
        upright = ImageOps.exif_transpose(im)
        clean = _flatten(upright) if upright.mode != "RGB" else upright.copy()
    clean.thumbnail((max_px, max_px))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality)
    return out.getvalue()
