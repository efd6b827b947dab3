"""The bulletin as PDF, checked from the file as poppler reads it: A4, the type area's
margins, the fonts embedded, every figure as the database says, page numbers "— n —",
and photos with no EXIF or GPS. Pages are kept as PNG in artifacts/bulletin/."""

import io
import os
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from server.bulletins.render import render
from server.bulletins.render_pdf import write_pdf
from server.bulletins.services import compile_draft
from server.extensions import db
from tests.server.bulletins.test_render_docx import _preview_with_gps

ARTIFACTS = Path(os.environ.get("MINGCHA_ARTIFACTS", "artifacts")) / "bulletin"
MM = 72 / 25.4  # points per millimetre


def _run(*args) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.fixture
def pdf(app, november, tmp_path):
    _preview_with_gps(november["shown"])
    db.session.commit()
    draft = compile_draft("2026-11")
    db.session.commit()
    path = render(draft, tmp_path)[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _run("pdftoppm", "-r", "60", "-png", str(path), str(ARTIFACTS / "bulletin-2026-11"))
    return path


def test_the_page_is_a4_and_the_fonts_are_embedded(pdf):
    info = _run("pdfinfo", str(pdf))
    assert "Page size:       595.276 x 841.89 pts (A4)" in info
    fonts = _run("pdffonts", str(pdf))
    for face in ("Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC", "AR-PL-UKai-CN"):
        assert face in fonts, fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded


def test_the_text_sits_in_the_type_area(pdf):
    """Body text starts 28 mm from the left edge and 37 mm from the top; nothing but the
    page number lies outside the 156 × 225 mm type area."""
    boxes = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', _run("pdftotext", "-bbox", str(pdf), "-"))
    words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in boxes]
    body = [w for w in words if not re.fullmatch(r"—|\d+", w[4])]
    assert min(w[0] for w in body) == pytest.approx(28 * MM, abs=1.5)
    assert min(w[1] for w in body) >= 37 * MM - 1
    assert max(w[2] for w in body) <= (28 + 156) * MM + 1
    assert max(w[3] for w in body) <= (37 + 225) * MM + 1
    feet = [w for w in words if w[1] > (37 + 225) * MM]
    assert feet and all(re.fullmatch(r"—|\d+", w[4]) for w in feet)
    # 22 lines to the type area's 225 mm: the body's lines follow each other 10.23 mm apart.
    starts = sorted({round(w[1], 1) for w in body if w[3] - w[1] < 25})
    pitches = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert pytest.approx(225 * MM / 22, abs=0.2) in pitches


def test_every_figure_is_the_databases(pdf, november):
    text = _run("pdftotext", "-layout", str(pdf), "-")
    flat = re.sub(r"\s+", "", text)
    assert "X区住房和城乡建设局文件" in flat and "X住建督〔2026〕1号" in flat
    assert "关于2026年11月份明察暗访情况的通报" in flat
    assert "共开展明察暗访2次（明察1次、暗访1次）" in flat
    assert "发现问题2个，其中重大问题1个" in flat and "整改率50%" in flat
    assert "2026-11-01，恒天花园小巷路灯改造：上班时间离岗，未履行外出报批手续（重大问题）" in flat
    assert "3路灯管理所011793" in flat  # rank, unit, general, major, overdue, deducted, score
    assert "路灯管理所：脱岗离岗" in flat
    assert "五、考核得分" in flat
    assert november["plan"].title not in flat
    assert "—1—" in flat


def test_photos_are_an_annex_after_the_signature(pdf):
    pages = _run("pdftotext", "-layout", str(pdf), "-").split("\f")
    flat = [re.sub(r"\s+", "", page) for page in pages]
    assert "纺织东路道路工程：上班时间离岗，未履行外出报批手续（见附件图1）" in "".join(flat)
    signed = max(i for i, page in enumerate(flat) if "附件：问题照片" in page)
    annex = next(i for i, page in enumerate(flat) if page.startswith("附件问题照片"))
    assert annex > signed and "图1建筑业管理科2026-11-03纺织东路道路工程" in flat[annex]
    images = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    assert [int(row.split()[0]) for row in images if row.split()[2] == "image"
            and row.split()[8] == "jpeg"] == [annex + 1]  # the photo is on the annex page


def test_the_annex_sets_photos_two_to_a_row(app, november, tmp_path):
    """Three photos: 图1 and 图2 side by side, 图3 under 图1 in the left column."""
    draft = compile_draft("2026-11")
    content = draft.content
    fixed = next(p for p in content["figures"]["problems"] if p["unit"] == "建筑业管理科")
    problems = [{**fixed, "finding_id": f"f{n}"} for n in range(3)]
    content = {**content, "figures": {**content["figures"], "problems": problems}}
    photos = {}
    for n in range(3):
        data = io.BytesIO()
        Image.new("RGB", (800, 600) if n else (450, 600), "gray").save(data, "JPEG")
        photos[f"f{n}"] = data.getvalue()  # the first one upright: its box is the same size
    path = tmp_path / "three.pdf"
    write_pdf(content, path, "X区住房和城乡建设局", photos, date(2026, 12, 1))
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" [^>]*>(图\d)</word>',
                       _run("pdftotext", "-bbox", str(path), "-"))
    at = {label: (float(x), float(y)) for x, y, label in words}
    assert at["图1"][1] == at["图2"][1] and at["图2"][0] - at["图1"][0] > 70 * MM
    assert at["图3"][0] == pytest.approx(at["图1"][0], abs=2 * MM)  # captions are centred
    assert at["图3"][1] - at["图1"][1] > 56 * MM


def test_photos_leave_without_exif_or_gps(pdf, tmp_path):
    _run("pdfimages", "-j", str(pdf), str(tmp_path / "img"))
    photos = sorted(tmp_path.glob("img-*.jpg"))
    assert len(photos) == 1  # the one accepted photo (charts are PNG)
    shown = Image.open(io.BytesIO(photos[0].read_bytes()))
    assert len(shown.getexif()) == 0 and "exif" not in shown.info


def test_a_worker_that_renders_bulletins_still_refuses_a_truncated_photo(tmp_path):
    """WeasyPrint makes Pillow accept truncated images when imported; a worker runs both
    the bulletins' and the photos' jobs, and a photo cut short must still be refused."""
    import server.bulletins.render_pdf  # noqa: F401 (loaded for its effect on Pillow)
    from media.errors import MediaError
    from media.photo import ingest_photo
    from tests.media.photo_samples import scene

    whole = io.BytesIO()
    scene(3, (800, 600)).save(whole, "JPEG", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(MediaError):
        ingest_photo(cut)
