"""Pictures for the demo's evidence, drawn with Pillow: offices, the service window, works
and villages as coloured shapes, with the time-and-place stamp a phone's camera app prints.

No photograph is downloaded or kept in the repository: each one is drawn from a seed, so
the same seed gives the same picture (which is how the demo re-uses a photo on purpose).
"""

import io
import random
from datetime import datetime

from PIL import ExifTags, Image, ImageDraw, ImageFont

SKIN = [(236, 200, 170), (225, 185, 150), (210, 170, 135)]
CLOTHES = [(40, 50, 70), (245, 245, 245), (60, 60, 60), (90, 110, 150), (120, 40, 40)]
HELMETS = [(250, 200, 0), (230, 40, 30), (250, 250, 250), (30, 90, 200)]


def picture(kind: str, seed: int, width: int, stamp: list[str], tidy: bool = False) -> Image.Image:
    """A 4:3 picture of a ``kind`` of place (office, window, works, village, sheet), with
    ``stamp`` printed bottom left. ``tidy``: after a rectification (badges on, soil netted)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, width * 3 // 4))
    {"office": _office, "window": _window, "works": _works, "village": _village,
     "sheet": _sheet}[kind](image, rng, tidy)
    _stamp(ImageDraw.Draw(image), image.size, stamp)
    return image


def jpeg(image, *, taken: datetime, point: dict, device: tuple[str, str],
         quality: int = 88) -> bytes:
    """The picture as a phone saves it: JPEG with capture time, offset, GPS and device."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = device
    exif[ExifTags.Base.Orientation] = 1
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    sub[ExifTags.Base.OffsetTimeOriginal] = taken.isoformat()[-6:]  # "+08:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    for axis, refs in (("Latitude", "NS"), ("Longitude", "EW")):
        value = point["lat" if axis == "Latitude" else "lon"]
        gps[ExifTags.GPS[f"GPS{axis}Ref"]] = refs[value < 0]
        gps[ExifTags.GPS[f"GPS{axis}"]] = _dms(abs(value))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def _dms(degrees: float) -> tuple:
    whole = int(degrees)
    minutes = int((degrees - whole) * 60)
    seconds = round(((degrees - whole) * 60 - minutes) * 60, 4)
    return (whole, minutes, seconds)


def _stamp(draw, size, lines: list[str]):
    width, height = size
    big, small = ImageFont.load_default(width // 22), ImageFont.load_default(width // 45)
    top = height - width // 22 - len(lines[1:]) * width // 38 - width // 20
    draw.rectangle((width // 40, top, width // 40 + width // 160, height - width // 30),
                   fill=(250, 200, 40))
    draw.text((width // 22, top), lines[0], font=big, fill="white", stroke_width=2,
              stroke_fill=(30, 30, 30))
    for n, line in enumerate(lines[1:]):
        draw.text((width // 22, top + width // 18 + n * width // 38), line, font=small,
                  fill="white", stroke_width=2, stroke_fill=(30, 30, 30))


def _colour(rng, base, spread=25):
    return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in base)


def _person(draw, rng, x, foot, tall, helmet=None, badge=None):
    head, body = tall // 7, _colour(rng, rng.choice(CLOTHES), 10)
    draw.rectangle((x - tall // 7, foot - tall * 5 // 7, x + tall // 7, foot), fill=body)
    draw.ellipse((x - head, foot - tall, x + head, foot - tall + 2 * head),
                 fill=rng.choice(SKIN))
    if helmet:
        draw.chord((x - head - 3, foot - tall - 4, x + head + 3, foot - tall + head * 2),
                   180, 360, fill=helmet)
    if badge:
        draw.rectangle((x + tall // 40, foot - tall * 4 // 7,
                        x + tall // 10, foot - tall * 4 // 7 + tall // 10), fill=badge)


def _office(image, rng, tidy):
    draw, (width, height) = ImageDraw.Draw(image), image.size
    floor = int(height * rng.uniform(0.55, 0.75))
    draw.rectangle((0, 0, width, floor), fill=_colour(rng, (225, 220, 200)))
    draw.rectangle((0, floor, width, height), fill=_colour(rng, (150, 130, 110)))
    left = rng.randrange(0, width // 2)
    draw.rectangle((left, height // 10, left + width // 3, floor - height // 5),
                   fill=_colour(rng, (170, 210, 240)), outline=(240, 240, 240), width=12)
    for _ in range(rng.randint(1, 3)):
        x = rng.randrange(0, width - width // 4)
        top = floor - rng.randrange(height // 20, height // 8)
        draw.rectangle((x, top, x + width // 4, top + height // 5),
                       fill=_colour(rng, (120, 80, 50)))
        draw.rectangle((x + width // 16, top - height // 6, x + width // 6, top - 6),
                       fill=(30, 30, 35), outline=(70, 70, 80), width=6)
        if rng.random() < 0.7 or tidy:
            _person(draw, rng, x + width // 8, top + height // 5, height // 3,
                    badge=(200, 30, 30) if tidy or rng.random() < 0.5 else None)


def _window(image, rng, tidy):
    draw, (width, height) = ImageDraw.Draw(image), image.size
    counter = int(height * rng.uniform(0.5, 0.72))
    draw.rectangle((0, 0, width, counter), fill=_colour(rng, (235, 235, 240)))
    band = rng.randrange(height // 20, height // 6)
    draw.rectangle((0, band, width, band + height // 10), fill=_colour(rng, (20, 60, 140), 15))
    windows = rng.randint(2, 6)
    for n in range(windows):
        x = int(width * (n + rng.uniform(0.2, 0.8)) / windows)
        draw.rectangle((x - width // 30, band + height // 50, x + width // 30,
                        band + height // 12), fill="white")
        if rng.random() < 0.75 or tidy:
            _person(draw, rng, x, counter, height // 3,
                    badge=(40, 90, 200) if tidy or rng.random() < 0.6 else None)
    draw.rectangle((0, counter, width, height), fill=_colour(rng, (180, 160, 130)))
    for _ in range(rng.randint(0, 3)):  # people waiting, nearer the camera
        _person(draw, rng, rng.randrange(width), rng.randrange(counter + height // 6, height),
                height // 2)


def _works(image, rng, tidy):
    draw, (width, height) = ImageDraw.Draw(image), image.size
    ground = int(height * rng.uniform(0.45, 0.7))
    draw.rectangle((0, 0, width, ground), fill=_colour(rng, (150, 190, 230), 30))
    draw.rectangle((0, ground, width, height), fill=_colour(rng, (150, 120, 80)))
    x, floors = rng.randrange(0, width // 2), rng.randint(3, 8)
    storey = (ground - height // 8) // floors
    for n in range(floors):
        top = ground - (n + 1) * storey
        draw.rectangle((x, top, x + width // 3, top + storey), outline=(120, 120, 120), width=10,
                       fill=(190, 185, 175) if n < floors - 2 else None)
    mast = rng.randrange(width // 2, width - width // 10)
    draw.line((mast, ground, mast, height // 12), fill=(240, 190, 0), width=14)
    draw.line((mast - width // 3, height // 12, mast + width // 8, height // 12),
              fill=(240, 190, 0), width=12)
    fence = _colour(rng, rng.choice([(30, 90, 170), (40, 140, 70)]), 10)
    draw.rectangle((0, ground, width, ground + height // 9), fill=fence)
    draw.rectangle((0, ground + height // 25, width, ground + height // 18), fill="white")
    heap = rng.randrange(0, width * 2 // 3)
    draw.polygon([(heap, height - height // 12), (heap + width // 6, ground + height // 5),
                  (heap + width // 3, height - height // 12)],
                 fill=(60, 130, 60) if tidy or rng.random() < 0.4 else (120, 90, 55))
    for _ in range(rng.randint(1, 4)):
        _person(draw, rng, rng.randrange(width // 10, width - width // 10),
                rng.randrange(ground + height // 6, height - height // 20), height // 5,
                helmet=rng.choice(HELMETS) if tidy or rng.random() < 0.75 else None)


def _village(image, rng, tidy):
    draw, (width, height) = ImageDraw.Draw(image), image.size
    horizon = int(height * rng.uniform(0.35, 0.6))
    draw.rectangle((0, 0, width, horizon), fill=_colour(rng, (160, 200, 235), 30))
    draw.rectangle((0, horizon, width, height), fill=_colour(rng, (110, 150, 80)))
    for _ in range(rng.randint(2, 4)):
        x, w = rng.randrange(0, width - width // 5), rng.randrange(width // 8, width // 4)
        wall = horizon + rng.randrange(0, height // 10)
        draw.rectangle((x, wall - height // 6, x + w, wall), fill=_colour(rng, (235, 230, 220)))
        draw.polygon([(x - 10, wall - height // 6), (x + w // 2, wall - height // 4),
                      (x + w + 10, wall - height // 6)],
                     fill=rng.choice([(170, 60, 40), (90, 90, 100)]))
    for _ in range(rng.randint(2, 6)):
        x, y = rng.randrange(width), horizon + rng.randrange(-height // 20, height // 20)
        draw.ellipse((x - width // 25, y - height // 6, x + width // 25, y),
                     fill=_colour(rng, (50, 110, 50)))
    road = rng.randrange(width // 4, width * 3 // 4)
    draw.polygon([(road - width // 40, horizon + height // 12), (road + width // 40,
                  horizon + height // 12), (road + width // 4, height), (road - width // 4,
                  height)], fill=(140, 140, 135) if tidy else (120, 95, 70))


def _sheet(image, rng, tidy):
    """A sign-in sheet or leave book on a desk, photographed from above at a slant."""
    draw, (width, height) = ImageDraw.Draw(image), image.size
    draw.rectangle((0, 0, width, height), fill=_colour(rng, (130, 90, 60)))
    paper = Image.new("RGB", (width * 2 // 3, height * 4 // 5), _colour(rng, (245, 245, 238), 6))
    pen = ImageDraw.Draw(paper)
    rows, (w, h) = rng.randint(8, 18), paper.size
    for n in range(rows + 1):
        y = h // 10 + n * (h - h // 8) // rows
        pen.line((20, y, w - 20, y), fill=(60, 60, 60), width=3)
        if n < rows and rng.random() < 0.8:
            for column in range(rng.randint(2, 4)):
                x = 30 + column * w // 4
                pen.line((x, y + 10, x + rng.randrange(50, w // 5), y + rng.randrange(12, 28)),
                         fill=(20, 30, 120), width=5)
    paper = paper.rotate(rng.uniform(-25, 25), expand=True, fillcolor=(0, 0, 0))
    mask = paper.convert("L").point(lambda v: 255 if v else 0)
    image.paste(paper, (rng.randrange(-width // 8, width // 3),
                        rng.randrange(-height // 8, height // 5)), mask)
    x = rng.randrange(width // 4, width * 3 // 4)
    draw.line((x, height - height // 4, x + width // 5, height - height // 8),
              fill=(20, 20, 20), width=18)
