"""The bulletin's workbook against the database: one row per confirmed finding of the
month in 问题清单, every unit in 单位得分, a frozen header, widths and filters."""

from openpyxl import load_workbook

from server.bulletins.render_xlsx import write_xlsx
from server.bulletins.services import compile_draft
from server.extensions import db


def test_the_workbook_says_what_the_database_says(app, november, tmp_path):
    draft = compile_draft("2026-11")
    db.session.commit()
    path = tmp_path / "bulletin-2026-11.xlsx"
    write_xlsx(draft.content, path)
    book = load_workbook(path)
    assert book.sheetnames == ["问题清单", "单位得分"]

    problems = book["问题清单"]
    rows = list(problems.iter_rows(values_only=True))
    assert rows[0] == ("序号", "责任单位", "检查对象", "检查日期", "问题类别", "严重程度",
                       "问题描述", "整改状态", "整改时限", "包挂领导")
    major, fixed = november["major"], november["fixed"]
    assert rows[1] == (1, "路灯管理所", "恒天花园小巷路灯改造", "2026-11-01", "脱岗离岗",
                       "重大问题", major.description, "已通知单位", "2026-11-20", "包挂领导")
    assert rows[2][1:6] == ("建筑业管理科", "纺织东路道路工程", "2026-11-03", "脱岗离岗",
                            "一般问题")
    assert rows[2][7] == "已销号"
    assert len(rows) == 3  # pending, dismissed, deleted and December's findings are not here
    assert problems.freeze_panes == "A2" and problems.auto_filter.ref == "A1:J3"
    assert problems.column_dimensions["G"].width == 48

    scores = {row[1]: row for row in book["单位得分"].iter_rows(min_row=2, values_only=True)}
    assert set(scores) == {"路灯管理所", "建筑业管理科", "人事科"}
    assert scores["路灯管理所"][:8] == (3, "路灯管理所", 0, 1, 1, 7, 93, scores["路灯管理所"][7])
    assert scores["路灯管理所"][8].startswith("取消：脱岗离岗")
    assert scores["人事科"][0] == 1 and scores["人事科"][8] == "保留"
    assert str(fixed.id) not in str(rows)  # ids are for machines, not for this sheet
