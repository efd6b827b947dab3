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
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Mm, Pt, RGBColor

from .layout import annex, chinese, problems_by_unit
from .services import SECTIONS

RED = RGBColor(0xD0, 0x00, 0x00)
TITLE_FONT, BODY_FONT, HEI, KAI = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
LINE = Pt(28.95)  # 225 mm / 22 lines
# Two photos to a row in the annex, each in a 75 × 56 mm box, centred on the row's halves.
PHOTO_BOX = (Mm(75), Mm(56))
HALVES = (Mm(39), Mm(117))


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

    def add(self, run, blob: bytes, box):
        """The photo as large as fits ``box`` (width, height), keeping its proportions."""
        self.count += 1
        image = Image.from_blob(blob)
        part = ImagePart.from_image(image, PackURI(f"/word/media/photo{self.count}.{image.ext}"))
        rid = self.part.relate_to(part, RT.IMAGE)
        cx, cy = image.scaled_dimensions(box[0], None)
        if cy > box[1]:
            cx, cy = image.scaled_dimensions(None, box[1])
        run._r.add_drawing(CT_Inline.new_pic_inline(self.shape_id, rid, image.filename, cx, cy))
        self.shape_id += 1


def write_docx(content: dict, path, issuer: str, photos: dict[str, bytes] | None = None,
               today: date | None = None) -> None:
    """``photos``: finding id → a clean JPEG (no metadata), shown in the annex."""
    photos, today = photos or {}, today or date.today()
    figures, sections = content["figures"], content["sections"]
    units = problems_by_unit(figures["problems"], photos)
    shown = annex(units)
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
            for i, (unit, problems) in enumerate(units):
                _paragraph(doc, f"（{chinese(i + 1)}）{unit}", KAI)
                for problem in problems:
                    _paragraph(doc, problem.line)
    _paragraph(doc, f"{chinese(len(SECTIONS) + 1)}、考核得分", HEI)
    _paragraph(doc, "（一）各单位得分", KAI)
    _table(doc, ("排名", "单位", "一般", "重大", "逾期", "扣分", "得分"),
           [(s["rank"], s["name"], s["general"], s["major"], s["overdue"], f"{s['deducted']:g}",
             f"{s['score']:g}") for s in content.get("scores", [])])
    if figures["ineligible"]:
        _paragraph(doc, "（二）取消年度评先评优资格的单位", KAI)
        for row in figures["ineligible"]:
            _paragraph(doc, f"{row['unit']}：{row['why']}（{row['date']}）")
    _paragraph(doc, indent=False)
    if shown:
        _paragraph(doc, "附件：问题照片")
        _paragraph(doc, indent=False)
    _paragraph(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(doc, f"{today.year}年{today.month}月{today.day}日",
               align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    if shown:
        _annex(doc, shown, photos)
    doc.core_properties.title = content["title"]
    doc.save(path)


def _annex(doc, figures, photos):
    """附件 on a page of its own: the label in 黑体, a title, then the photos two to a row,
    each row's captions under it, both centred on the halves of the type area."""
    label = _paragraph(doc, "附件", HEI, indent=False)
    label.paragraph_format.page_break_before = True
    _paragraph(doc, indent=False)
    _paragraph(doc, "问题照片", TITLE_FONT, 22, WD_ALIGN_PARAGRAPH.CENTER, False)
    _paragraph(doc, indent=False)
    pictures = Pictures(doc)
    for pair in (figures[i:i + 2] for i in range(0, len(figures), 2)):
        row = _halves(_paragraph(doc, indent=False))
        captions = _halves(_paragraph(doc, indent=False))
        captions.paragraph_format.space_after = Pt(8)
        for figure in pair:
            row.add_run("\t")
            pictures.add(row.add_run(), photos[figure.finding_id], PHOTO_BOX)
            _font(captions.add_run(f"\t{figure.caption}"), BODY_FONT, 10.5)


def _halves(paragraph):
    for position in HALVES:
        paragraph.paragraph_format.tab_stops.add_tab_stop(position, WD_TAB_ALIGNMENT.CENTER)
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    return paragraph
