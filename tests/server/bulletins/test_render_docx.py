"""The bulletin as a Word document: the official layout's page, the organ, number and
title, every problem and score as the database says, photos with no EXIF or GPS."""

import io

import pytest
from docx import Document
from docx.shared import Pt
from PIL import Image

from server.bulletins.layout import chinese
from server.bulletins.render import render
from server.bulletins.services import compile_draft
from server.evidence.storage import storage
from server.extensions import db
from tests.media.photo_samples import exif_for, scene

GPS = {"GPSLatitudeRef": "N", "GPSLatitude": (34.0, 15.0, 36.0),
       "GPSLongitudeRef": "E", "GPSLongitude": (117.0, 11.0, 24.0)}


def _preview_with_gps(evidence):
    data = io.BytesIO()
    scene(2, (1200, 900)).save(data, "JPEG", exif=exif_for(make="HUAWEI", gps=GPS).tobytes())
    key = f"derived/{evidence.id}/preview.jpg"
    storage().save(key, io.BytesIO(data.getvalue()))
    evidence.derivatives = {"preview.jpg": {"key": key, "size": len(data.getvalue())}}


# A large month's document is written by a second process while the PDF is laid out.
@pytest.mark.parametrize("second_process", [False, True], ids=["here", "second-process"])
def test_the_document_says_what_the_database_says(app, november, tmp_path, second_process):
    _preview_with_gps(november["shown"])
    db.session.commit()
    draft = compile_draft("2026-11")
    db.session.commit()
    _pdf, docx_path, _xlsx = render(draft, tmp_path, second_process=second_process)
    assert docx_path.name == "bulletin-2026-11.docx"
    doc = Document(docx_path)

    page = doc.sections[0]  # Word keeps lengths in twips: compare to a tenth of a millimetre
    mm = {name: round(getattr(page, name).mm, 1) for name in (
        "page_width", "page_height", "top_margin", "bottom_margin", "left_margin",
        "right_margin")}
    assert (mm["page_width"], mm["page_height"]) == (210, 297)  # A4
    assert (mm["top_margin"], mm["left_margin"]) == (37, 28)
    assert mm["page_width"] - mm["left_margin"] - mm["right_margin"] == 156  # type area
    assert mm["page_height"] - mm["top_margin"] - mm["bottom_margin"] == 225

    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "X区住房和城乡建设局文件"
    assert doc.paragraphs[0].runs[0].font.color.rgb == (0xD0, 0x00, 0x00)
    assert texts[1] == "X住建督〔2026〕1号"
    title = next(p for p in doc.paragraphs if p.text == draft.title)
    assert title.runs[0].font.size == Pt(22)
    headings = [t for t in texts if t[1:2] == "、"]
    assert headings == ["一、基本情况", "二、存在问题", "三、整改要求", "四、下一步工作",
                        "五、考核得分"]
    body = next(p for p in doc.paragraphs if p.text.startswith("2026年11月"))
    assert body.runs[0].font.size == Pt(16)
    assert "发现问题2个，其中重大问题1个" in body.text
    for finding in (november["major"], november["fixed"]):
        assert any(finding.description in t for t in texts)
    assert "2026-11-01，恒天花园小巷路灯改造：上班时间离岗，未履行外出报批手续（重大问题）" in texts
    assert any(t.startswith("路灯管理所：脱岗离岗") for t in texts)  # lost the awards
    assert any(t.startswith("2026-11-03，纺织东路道路工程：") and t.endswith("（见附件图1）")
               for t in texts)  # the problem points at its photo in the annex
    assert "附件：问题照片" in texts
    dated = texts.index("附件") - 1  # the annex starts a page after the date
    assert texts[dated].endswith("日") and texts[dated][:4].isdigit()  # in Arabic numerals
    assert doc.paragraphs[dated + 1].paragraph_format.page_break_before
    assert texts[-1] == "\t图1\u3000建筑业管理科\u30002026-11-03\u3000纺织东路道路工程"

    scores = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert scores[0] == ["排名", "单位", "一般", "重大", "逾期", "扣分", "得分"]
    assert ["3", "路灯管理所", "0", "1", "1", "7", "93"] in scores

    images = [rel.target_part.blob for rel in doc.part.rels.values()
              if "image" in rel.reltype]
    assert len(images) == 1  # the one accepted photo
    shown = Image.open(io.BytesIO(images[0]))
    assert len(shown.getexif()) == 0 and "exif" not in shown.info  # no GPS leaves the bureau
    footer = doc.sections[0].footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer and "— " in footer


@pytest.mark.parametrize("n, text", [(1, "一"), (4, "四"), (10, "十"), (11, "十一"),
                                     (20, "二十"), (35, "三十五")])
def test_chinese_numerals_of_headings(n, text):
    assert chinese(n) == text


def test_the_render_command_writes_the_three_files(app, runner, november, tmp_path):
    assert runner.invoke(args=["bulletin", "compile", "2026-11"]).exit_code == 0
    result = runner.invoke(args=["bulletin", "render", "2026-11", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bulletin-2026-11.docx", "bulletin-2026-11.pdf", "bulletin-2026-11.xlsx"]
