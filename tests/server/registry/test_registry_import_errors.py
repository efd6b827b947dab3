"""`manage.py import-registry` with bad input: every error named by file and row, nothing kept."""

from datetime import UTC, datetime

import pytest

from server.extensions import db
from tests.server.registry.registry_files import (
    PEOPLE_ZH,
    SITES_ZH,
    UNITS_ZH,
    counts,
    unit,
    write_csv,
    write_xlsx,
)


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("MINGCHA_LOCALE", "en")


@pytest.fixture
def before(make):
    """A unit already there, whose name a failed import must not change."""
    make.unit(code="JZK", name="建管科")
    return counts()


def refused(runner, *paths):
    """Run the import, check it failed the way a person can read, and return stderr."""
    result = runner.invoke(args=["import-registry", *map(str, paths)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Nothing was imported" in result.stderr
    return result.stderr


def unchanged(before):
    assert counts() == before
    assert unit("JZK").name == "建管科"


def test_unknown_role_is_refused_with_file_and_row(runner, tmp_path, before):
    units = write_csv(tmp_path / "units.csv", UNITS_ZH)
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_ZH, ["chenjing", "陈静", "巡查员"]])
    errors = refused(runner, units, people)
    assert "people.csv:4: 角色: unknown role 巡查员" in errors
    unchanged(before)


def test_unknown_unit_code_is_refused_with_file_and_row(runner, tmp_path, before):
    units = write_csv(tmp_path / "units.csv", UNITS_ZH)
    sites = write_csv(tmp_path / "sites.csv", [
        *SITES_ZH, ["LYNL", "梨园南路", "道路", "LDS", "34.25", "117.18", "300", ""]])
    errors = refused(runner, units, sites)
    assert "sites.csv:4: 责任单位编码: no unit has the code LDS" in errors
    unchanged(before)


def test_duplicate_username_across_files_names_both_rows(runner, tmp_path, before):
    first = write_csv(tmp_path / "first.csv", PEOPLE_ZH)
    second = write_xlsx(tmp_path / "second.xlsx", {"人员": [["用户名", "姓名", "角色"],
                                                           ["wangfang", "王芳", "审核员"],
                                                           ["zhangwei", "张伟", "检查员"]]})
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH), first, second)
    assert f"{second}:人员:3: the username zhangwei is also given at {first}:2." in errors
    unchanged(before)


def test_latitude_out_of_range_is_refused(runner, tmp_path, before):
    sites = [*SITES_ZH, ["BSW", "碧水湾桥", "工地", "CJK", "95", "117.2", "300", ""]]
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH),
                     write_csv(tmp_path / "sites.csv", sites))
    assert "sites.csv:4: 纬度: 95 is outside -90 to 90 degrees." in errors
    unchanged(before)


def test_a_geofence_wider_than_the_desk_allows_is_refused(runner, tmp_path, before):
    sites = [*SITES_ZH, ["BSW", "碧水湾桥", "工地", "CJK", "34.2", "117.2", "5001", ""]]
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH),
                     write_csv(tmp_path / "sites.csv", sites))
    assert "sites.csv:4: 围栏半径（米）: the radius must be between 1 and 5000 metres." in errors
    unchanged(before)


def test_every_bad_row_is_reported_not_only_the_first(runner, tmp_path, before):
    sites = [*SITES_ZH,
             ["A1", "甲", "工厂", "CJK", "34.2", "117.2", "300", ""],
             ["A2", "", "道路", "NOPE", "abc", "117.2", "-5", ""]]
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH),
                     write_csv(tmp_path / "sites.csv", sites))
    assert "sites.csv:4: 类型: unknown site type 工厂" in errors
    assert "sites.csv:5: 名称: the cell is empty." in errors
    assert "sites.csv:5: 纬度: abc is not a number of degrees." in errors
    assert "sites.csv:5: 责任单位编码: no unit has the code NOPE" in errors
    assert "sites.csv:5: 围栏半径（米）: the radius must be between 1 and" in errors
    assert "Nothing was imported: 5 problems." in errors
    unchanged(before)


def test_site_of_a_deleted_unit_is_refused(runner, make, tmp_path, before):
    gone = make.unit(code="CJK", name="城市建设科")
    gone.deleted_at = datetime.now(UTC)
    db.session.commit()
    baseline = counts()
    errors = refused(runner, write_csv(tmp_path / "sites.csv", SITES_ZH[:2]))
    assert "sites.csv:2: 责任单位编码: the unit CJK has been deleted." in errors
    unchanged(baseline)


def test_missing_column_is_refused_naming_the_header_row(runner, tmp_path, before):
    people = write_csv(tmp_path / "people.csv", [["用户名", "姓名"], ["zhangwei", "张伟"]])
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH), people)
    assert "people.csv:1: missing column 角色" in errors
    unchanged(before)


def test_table_of_unknown_kind_is_refused_naming_file_and_sheet(runner, tmp_path, before):
    book = write_xlsx(tmp_path / "registry.xlsx", {"单位": UNITS_ZH, "备注": [["说明"], ["无"]]})
    errors = refused(runner, book)
    assert f"{book}:备注:1: cannot tell whether this table lists units, sites or people" in errors
    unchanged(before)


def test_text_file_named_xlsx_is_refused(runner, tmp_path, before):
    fake = tmp_path / "registry.xlsx"
    fake.write_text("单位编码,单位名称\nJZK,建筑业管理科\n", encoding="utf-8")
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH), fake)
    assert f"{fake}: the name ends in .xlsx but the file is not an Excel workbook" in errors
    unchanged(before)


def test_damaged_workbook_is_refused(runner, tmp_path, before):
    broken = tmp_path / "units.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    errors = refused(runner, broken)
    assert f"{broken}: this is not a readable XLSX workbook" in errors
    unchanged(before)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\r\n,,\r\n"])
def test_empty_file_is_refused(runner, tmp_path, before, content):
    empty = tmp_path / "people.csv"
    empty.write_bytes(content)
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH), empty)
    assert f"{empty}: the file is empty." in errors
    unchanged(before)


def test_missing_file_is_refused(runner, tmp_path, before):
    errors = refused(runner, write_csv(tmp_path / "units.csv", UNITS_ZH), tmp_path / "nope.csv")
    assert f"{tmp_path / 'nope.csv'}: cannot be read" in errors
    unchanged(before)


def test_short_password_and_unit_contact_without_unit_are_refused(runner, tmp_path, before):
    people = write_csv(tmp_path / "people.csv", [
        ["用户名", "姓名", "角色", "单位编码", "密码"],
        ["zhangwei", "张伟", "监督员", "", "1234"],
        ["liuyang", "刘洋", "单位联系人", "", ""]])
    errors = refused(runner, people)
    assert "people.csv:2: 密码: the password must have at least 8 characters." in errors
    assert "people.csv:3: 单位编码: a unit contact needs the code of their unit." in errors
    unchanged(before)


def test_duplicate_unit_code_within_a_file_names_both_rows(runner, tmp_path, before):
    units = write_csv(tmp_path / "units.csv", [*UNITS_ZH, ["JZK", "建筑业科", ""]])
    errors = refused(runner, units)
    assert f"units.csv:4: the unit code JZK is also given at {units}:2." in errors
    unchanged(before)
