"""The bulletin as a workbook: sheet 问题清单, one row per finding of the month, and sheet
单位得分, every unit's score. Read from the bulletin's content only, so a published
bulletin gives the same workbook for ever."""

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

SEVERITY = {"general": "一般问题", "major": "重大问题"}
CASE_STATUS = {"open": "待通知", "notified": "已通知单位", "rectifying": "整改中",
               "submitted": "已报送整改", "verified": "已复查", "closed": "已销号",
               "reopened": "重新整改", None: "—"}
PROBLEMS = (("序号", 6), ("责任单位", 18), ("检查对象", 26), ("检查日期", 12),
            ("问题类别", 16), ("严重程度", 10), ("问题描述", 48), ("整改状态", 12),
            ("整改时限", 12), ("包挂领导", 12))
SCORES = (("排名", 6), ("单位", 20), ("一般问题", 10), ("重大问题", 10), ("逾期未整改", 12),
          ("扣分", 8), ("本月得分", 10), ("年度平均得分", 14), ("评先评优资格", 40))
HEADER = Font(bold=True)
FILL = PatternFill("solid", fgColor="F2DCDB")


def _sheet(book, title, columns, rows):
    sheet = book.create_sheet(title)
    sheet.append([name for name, _width in columns])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER, FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for index, (_name, width) in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    return sheet


def write_xlsx(content: dict, path) -> None:
    figures, scores = content["figures"], content.get("scores", [])
    book = Workbook()
    book.remove(book.active)
    problems = [[n, p["unit"], p["site"], p["date"], p["category"], SEVERITY[p["severity"]],
                 p["description"], CASE_STATUS[p["case_status"]], p["deadline"] or "—",
                 p["leader"] or "—"] for n, p in enumerate(figures["problems"], 1)]
    sheet = _sheet(book, "问题清单", PROBLEMS, problems)
    for row in sheet.iter_rows(min_row=2, min_col=7, max_col=7):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    _sheet(book, "单位得分", SCORES, [
        [s["rank"], s["name"], s["general"], s["major"], s["overdue"], s["deducted"],
         s["score"], s["year_to_date"], f"取消：{s['ineligible']}" if s["ineligible"] else "保留"]
        for s in scores])
    book.properties.title = content.get("title", "")
    book.save(path)
