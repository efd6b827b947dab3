"""The bulletin as a Word document staff can edit, laid out as GB/T 9704-2012 asks: A4,
margins of 37 mm (top) and 28 mm (binding side) around a 156 × 225 mm type area, the
issuing organ in red over a red rule, the document number with 〔〕, the title in 2号
(22 pt) 小标宋, the body in 3号 (16 pt) 仿宋 on a 22-line grid, headings 一、 in 黑体
and （一） in 楷体, the date in Arabic numerals, and page numbers "— 1 —" at the foot.
The fonts are named as Windows names them, so Word on a bureau PC shows them as intended.
Read from the bulletin's content only."""

from datetime import date

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Mm, Pt, RGBColor

from .services import SECTIONS

RED = RGBColor(0xD0, 0x00, 0x00)
TITLE_FONT, BODY_FONT, HEI, KAI = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
LINE = Pt(28.95)  # 225 mm / 22 lines
DIGITS = "一二三四五六七八九"


def chinese(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1 to 99)."""
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else DIGITS[tens - 1]) + "十" if tens else ""
    return head + (DIGITS[ones - 1] if ones else "")


def _font(run, name: str, size: float, bold=False, color=None):
    run.font.name, run.font.size, run.font.bold = name, Pt(size), bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color
    return run


def _paragraph(doc, text="", font=BODY_FONT, size=16, align=None, indent=True, bold=False,
               color=None):
    p = doc.add_paragraph()
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    p.paragraph_format.line_spacing = LINE
    p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(0)
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    if text:
        _font(p.add_run(text), font, size, bold, color)
    return p


def _red_rule(paragraph):
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "4"), ("color", "D00000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _page_numbers(section):
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(footer.add_run("— "), BODY_FONT, 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)
    _font(footer.add_run(" —"), BODY_FONT, 14)


def _table(doc, header, rows):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _font(cell.paragraphs[0].add_run(text), HEI, 12)
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            _font(cell.paragraphs[0].add_run(str(value)), BODY_FONT, 12)
    return table


class Pictures:
    """Puts photos into the document numbering them itself. python-docx's add_picture
    looks for a duplicate, a free part name and a free shape id by going through every
    picture and element already in the document, for each picture: a month of a
    thousand photos took minutes (bench/bulletin_bench.py)."""

    def __init__(self, doc):
        self.part, self.count = doc.part, 0
        self.shape_id = doc.part.next_id  # read once, then counted

    def add(self, run, blob: bytes, width):
        self.count += 1
        image = Image.from_blob(blob)
        part = ImagePart.from_image(image, PackURI(f"/word/media/photo{self.count}.{image.ext}"))
        rid = self.part.relate_to(part, RT.IMAGE)
        cx, cy = image.scaled_dimensions(width, None)
        run._r.add_drawing(CT_Inline.new_pic_inline(self.shape_id, rid, image.filename, cx, cy))
        self.shape_id += 1


def write_docx(content: dict, path, issuer: str, photos: dict[str, bytes] | None = None,
               today: date | None = None) -> None:
    """``photos``: finding id → a clean JPEG (no metadata) to show with that problem."""
    photos, today = photos or {}, today or date.today()
    figures, sections = content["figures"], content["sections"]
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _page_numbers(section)

    _paragraph(doc, f"{issuer}文件", TITLE_FONT, 36, WD_ALIGN_PARAGRAPH.CENTER, False,
               color=RED)
    number = _paragraph(doc, content["number"], BODY_FONT, 16, WD_ALIGN_PARAGRAPH.CENTER,
                        False)
    _red_rule(number)
    _paragraph(doc, indent=False)
    _paragraph(doc, content["title"], TITLE_FONT, 22, WD_ALIGN_PARAGRAPH.CENTER, False)
    _paragraph(doc, indent=False)
    _paragraph(doc, "各科室、各单位：", indent=False)
    for n, name in enumerate(SECTIONS):
        _paragraph(doc, f"{chinese(n + 1)}、{name}", HEI)
        for line in sections.get(name, "").splitlines():
            if line.strip():
                _paragraph(doc, line.strip())
        if name == "存在问题":
            _problems(doc, figures, photos, Pictures(doc))
    _paragraph(doc, "（一）各单位得分", KAI)
    _table(doc, ("排名", "单位", "一般", "重大", "逾期", "扣分", "得分"),
           [(s["rank"], s["name"], s["general"], s["major"], s["overdue"], f"{s['deducted']:g}",
             f"{s['score']:g}") for s in content.get("scores", [])])
    if figures["ineligible"]:
        _paragraph(doc, "（二）取消年度评先评优资格的单位", KAI)
        for row in figures["ineligible"]:
            _paragraph(doc, f"{row['unit']}：{row['why']}（{row['date']}）")
    _paragraph(doc, indent=False)
    _paragraph(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(doc, f"{today.year}年{today.month}月{today.day}日",
               align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    doc.core_properties.title = content["title"]
    doc.save(path)


def _problems(doc, figures, photos, pictures: Pictures):
    units: dict[str, list] = {}
    for problem in figures["problems"]:
        units.setdefault(problem["unit"], []).append(problem)
    for n, (unit, problems) in enumerate(units.items()):
        _paragraph(doc, f"（{chinese(n + 1)}）{unit}", KAI)
        for problem in problems:
            severity = "（重大问题）" if problem["severity"] == "major" else ""
            _paragraph(doc, f"{problem['date']}，{problem['site']}：{problem['description']}"
                            f"{severity}")
            photo = photos.get(problem["finding_id"])
            if photo:
                picture = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
                picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                pictures.add(picture.add_run(), photo, Mm(80))
