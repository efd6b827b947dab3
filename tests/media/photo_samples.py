"""Pictures, EXIF blocks and hostile files for the media tests, all made here."""

import random
import struct
import zlib

from PIL import ExifTags, Image, ImageDraw

MARK = (255, 0, 0)  # a red block in the stored top-left corner shows where orientation moved it


def scene(seed: int, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A picture of coloured shapes, different for each seed, with the red mark top-left."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (
            x,
            y,
            x + rng.randrange(width // 8, width // 2),
            y + rng.randrange(height // 8, height // 2),
        )
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape(box, fill=tuple(rng.randrange(40, 200) for _ in range(3)))
    draw.rectangle((0, 0, width // 5, height // 5), fill=MARK)
    return image


def exif_for(*, orientation=None, gps=None, make=None, model=None, times=None) -> Image.Exif:
    """An EXIF block; gps maps GPS tag names to values, times maps time tag names to strings."""
    exif = Image.Exif()
    for tag, value in ((0x0112, orientation), (0x010F, make), (0x0110, model)):
        if value is not None:
            exif[tag] = value
    for name, value in (times or {}).items():
        if name == "DateTime":
            exif[ExifTags.Base.DateTime] = value
        else:
            exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base[name]] = value
    for name, value in (gps or {}).items():
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS[name]] = value
    return exif


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels: a decompression bomb's opening."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = (
        chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )
    return b"\x89PNG\r\n\x1a\n" + body
