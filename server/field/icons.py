"""The field app's PNG icons (home screens want PNG; the SVG ones are in the build), drawn
once per size with Pillow: the bureau's red with 察 in white, or a plain mark without the
CJK font."""

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZES = (192, 512)
RED = (159, 27, 27)
FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _font(size: int):
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return None


@lru_cache(maxsize=len(SIZES))
def icon_png(size: int) -> bytes:
    image = Image.new("RGB", (size, size), RED)
    draw = ImageDraw.Draw(image)
    font = _font(int(size * 0.62))
    if font is not None:
        draw.text((size / 2, size / 2), "察", font=font, fill="white", anchor="mm")
    else:
        middle, r = size / 2, size * 0.26
        draw.ellipse((middle - r, middle - r, middle + r, middle + r), outline="white",
                     width=max(2, size // 14))
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
