"""Helpers that write registry files as people make them: CSV from Excel, XLSX workbooks."""

import csv
import io

import openpyxl

from server.extensions import db
from server.models import Site, Unit, User

UNITS_ZH = [["单位编码", "单位名称", "包挂领导"],
            ["JZK", "建筑业管理科", "王建国"],
            ["CJK", "城市建设科", "李振华"]]
SITES_ZH = [["编码", "名称", "类型", "责任单位编码", "纬度", "经度", "围栏半径（米）", "地址"],
            ["FZDL", "纺织东路道路工程", "道路", "CJK", "34.2612", "117.1865", "300", "纺织东路"],
            ["JZK-OFFICE", "建筑业管理科办公室", "机关科室", "JZK", "34.2580", "117.1902", "",
             "局机关三楼"]]
PEOPLE_ZH = [["用户名", "姓名", "角色", "单位编码", "电话", "密码"],
             ["zhangwei", "张伟", "政风行风监督员", "", "13800138000", "jiandu-2024"],
             ["liuyang", "刘洋", "单位联系人", "JZK", "", "lianxi-2024"]]


def write_csv(path, rows, encoding="utf-8-sig"):
    """Write rows as CSV, in the encoding Excel would use."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path, sheets: dict):
    """Write a workbook with one sheet per entry of ``sheets`` (title -> rows)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def counts() -> tuple[int, int, int]:
    """How many units, sites and people the database holds."""
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(model))
                 for model in (Unit, Site, User))


def unit(code):
    return db.session.scalar(db.select(Unit).where(Unit.code == code))


def site(code):
    return db.session.scalar(db.select(Site).where(Site.code == code))


def user(username):
    return db.session.scalar(db.select(User).where(User.username == username))
