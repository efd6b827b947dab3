"""The bulletin as PDF in the layout of GB/T 9704-2012 (see the template's styles), by
WeasyPrint. Fonts come from Debian: Noto Serif CJK SC stands in for 小标宋 (title and
organ), Noto Sans CJK SC for 黑体, AR PL UKai for 楷体, and for the body's 仿宋 the
closest free face at hand, Noto Serif CJK SC; a deployment with a licensed 仿宋_GB2312
points MINGCHA_FANGSONG_FONT at its file."""

import base64
from datetime import date
from pathlib import Path

from flask import render_template
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .charts import bar_chart
from .layout import annex, chinese, problems_by_unit
from .services import SECTIONS

# WeasyPrint makes Pillow accept truncated images for every caller in the process when it
# is imported; the media pipeline must keep refusing them (a worker runs both jobs).
ImageFile.LOAD_TRUNCATED_IMAGES = False

BODY_SUBSTITUTE = '"Noto Serif CJK SC"'


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def write_pdf(content: dict, path, issuer: str, photos: dict[str, bytes], issued: date,
              fangsong: str | None = None) -> None:
    month = content["figures"]
    units = problems_by_unit(month["problems"], photos)
    charts = [_data_url(bar_chart(rows, title), "image/png") for rows, title in (
        (month["by_unit"], "各单位问题数"), (month["by_category"], "各类问题数")) if rows]
    font_file = Path(fangsong) if fangsong else None
    body_font_url = font_file.resolve().as_uri() if font_file and font_file.is_file() else None
    html = render_template(
        "bulletins/pdf.html", content=content, issuer=issuer, issued=issued,
        sections=SECTIONS, units=units, annex=annex(units), chinese=chinese, charts=charts,
        body_font_url=body_font_url,
        # The organ's name on one line of the type area (156 mm, about 440 pt), at most 36 pt.
        organ_pt=min(36, int(420 / (len(issuer) + 2))),
        body_font=f'"BodyFace", {BODY_SUBSTITUTE}' if body_font_url else BODY_SUBSTITUTE)
    fonts = FontConfiguration()
    HTML(string=html, url_fetcher=_Fetcher(photos)).write_pdf(path, font_config=fonts)


class _Fetcher(URLFetcher):
    """Photos are handed over from memory (embedded as base64 they made the page's HTML
    hundreds of megabytes long, slower to parse than to lay out); the charts are data
    URLs and the licensed font a file. Nothing is ever fetched from a network."""

    def __init__(self, photos: dict[str, bytes]):
        super().__init__(allowed_protocols={"data", "file"})
        self.photos = photos

    def fetch(self, url, headers=None):
        if url.startswith("photo:"):
            return URLFetcherResponse(url, body=self.photos[url[6:]],
                                      headers={"Content-Type": "image/jpeg"})
        return super().fetch(url, headers)
