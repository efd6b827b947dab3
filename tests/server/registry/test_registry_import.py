"""`manage.py import-registry`: units, sites and people from CSV and XLSX files."""

import re
from datetime import UTC, datetime

import pytest

from server.auth.passwords import verify_password
from server.extensions import db
from server.models import Unit
from tests.server.registry.registry_files import (
    PEOPLE_ZH,
    SITES_ZH,
    UNITS_ZH,
    counts,
    site,
    unit,
    user,
    write_csv,
    write_xlsx,
)


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("MINGCHA_LOCALE", "en")


def run(runner, *paths):
    return runner.invoke(args=["import-registry", *map(str, paths)])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_chinese_headers_csv_imports_units_sites_and_people(runner, tmp_path, encoding):
    files = [write_csv(tmp_path / "单位.csv", UNITS_ZH, encoding),
             write_csv(tmp_path / "检查对象.csv", SITES_ZH, encoding),
             write_csv(tmp_path / "人员.csv", PEOPLE_ZH, encoding)]
    result = run(runner, *files)
    assert result.exit_code == 0, result.output
    assert counts() == (2, 2, 2)
    assert unit("JZK").name == "建筑业管理科" and unit("JZK").leader_name == "王建国"
    road = site("FZDL")
    assert (road.kind, road.unit.code, road.radius_m) == ("road", "CJK", 300)
    assert (road.lat, road.lon, road.address) == (34.2612, 117.1865, "纺织东路")
    office = site("JZK-OFFICE")
    assert (office.kind, office.radius_m) == ("office", 100)  # empty radius: the default
    supervisor, contact = user("zhangwei"), user("liuyang")
    assert (supervisor.name, supervisor.role, supervisor.unit) == ("张伟", "supervisor", None)
    assert supervisor.phone == "13800138000"
    assert verify_password(supervisor.password_hash, "jiandu-2024")
    assert (contact.role, contact.unit.code) == ("unit", "JZK")
    assert "units: 2 created" in result.output and "people: 2 created" in result.output
    assert "jiandu-2024" not in result.output


def test_english_headers_xlsx_with_a_sheet_per_table(runner, tmp_path):
    # People come first in the workbook; units are still created before anyone needs them.
    book = write_xlsx(tmp_path / "registry.xlsx", {
        "People": [["Username", "Name", "Role", "Unit Code", "Phone", "Password"],
                   ["wangfang", "王芳", "reviewer", None, 13900139000, "shenhe-2024"],
                   ["zhaolei", "赵磊", "unit", "CZK", None, "lianxi-2024"]],
        "Notes": [],
        "Sites": [["code", "name", "kind", "unit_code", "lat", "lon", "radius_m", "address"],
                  ["XLZ", "小李庄村道硬化", "village", "CZK", 34.3011, 117.2433, 250, None],
                  [None, None, None, None, None, None, None, None],
                  ["CZWQ", "陈庄危桥改造", "construction_site", "CZK", 34.2871, 117.2102, 300,
                   "陈庄"]],
        "Units": [["code", "name", "leader_name"], ["CZK", "村镇建设科", "孙立新"]],
    })
    result = run(runner, book)
    assert result.exit_code == 0, result.output
    assert counts() == (1, 2, 2)
    assert site("XLZ").kind == "village" and site("XLZ").radius_m == 250
    assert site("CZWQ").unit.name == "村镇建设科"
    assert user("wangfang").phone == "13900139000"  # a number cell, read as text
    assert user("zhaolei").unit.code == "CZK"


def test_site_may_refer_to_a_unit_defined_in_another_file(runner, tmp_path):
    sites = write_csv(tmp_path / "sites.csv", SITES_ZH)
    units = write_xlsx(tmp_path / "units.xlsx", {"单位": UNITS_ZH})
    result = run(runner, sites, units)  # the sites file is named first
    assert result.exit_code == 0, result.output
    assert site("FZDL").unit.code == "CJK"


def test_site_may_refer_to_a_unit_already_in_the_database(runner, make, tmp_path):
    make.unit(code="CJK", name="城市建设科")
    make.unit(code="JZK", name="建筑业管理科")
    result = run(runner, write_csv(tmp_path / "sites.csv", SITES_ZH))
    assert result.exit_code == 0, result.output
    assert site("FZDL").unit.code == "CJK" and counts() == (2, 2, 0)


def test_existing_unit_is_updated_by_its_code(runner, make, tmp_path):
    old = make.unit(code="JZK", name="建管科")
    result = run(runner, write_csv(tmp_path / "units.csv", UNITS_ZH))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert counts()[0] == 2
    assert unit("JZK").id == old.id
    assert (unit("JZK").name, unit("JZK").leader_name) == ("建筑业管理科", "王建国")
    assert "units: 1 created, 1 updated, 0 unchanged" in result.output


def test_importing_the_same_files_again_changes_nothing(runner, tmp_path):
    files = [write_csv(tmp_path / "units.csv", UNITS_ZH),
             write_csv(tmp_path / "sites.csv", SITES_ZH)]
    run(runner, *files)
    version = unit("JZK").version
    result = run(runner, *files)
    assert result.exit_code == 0, result.output
    assert "units: 0 created, 0 updated, 2 unchanged" in result.output
    assert "sites: 0 created, 0 updated, 2 unchanged" in result.output
    db.session.expire_all()
    assert unit("JZK").version == version


def test_existing_person_is_updated_but_keeps_their_password(runner, make, tmp_path):
    person = make.user("inspector", username="zhangwei")
    make.unit(code="JZK", name="建筑业管理科")
    result = run(runner, write_csv(tmp_path / "people.csv", PEOPLE_ZH))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    updated = user("zhangwei")
    assert updated.id == person.id
    assert (updated.name, updated.role, updated.phone) == ("张伟", "supervisor", "13800138000")
    assert verify_password(updated.password_hash, "correct-horse-42")
    assert not verify_password(updated.password_hash, "jiandu-2024")
    assert "passwords were not changed: zhangwei" in result.output


def test_people_without_a_password_get_one_that_works(runner, make, tmp_path):
    make.unit(code="JZK", name="建筑业管理科")
    people = write_csv(tmp_path / "people.csv", [
        ["账号", "姓名", "角色", "单位编码", "密码"],
        ["sunli", "孙丽", "审核员", "", ""],
        ["zhouqiang", "周强", "联系人", "JZK", ""],
        ["wuhua", "吴华", "管理员", "", "guanli-2024"]])
    result = run(runner, people)
    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"^(sunli|zhouqiang)\s+\S+\s+(\S+)$", result.output, re.M))
    assert set(printed) == {"sunli", "zhouqiang"}
    assert printed["sunli"] != printed["zhouqiang"]
    for username, password in printed.items():
        assert len(password) >= 8
        assert verify_password(user(username).password_hash, password)
    assert "wuhua" not in result.output and "guanli-2024" not in result.output
    assert user("wuhua").role == "admin"


def test_unknown_columns_are_ignored_with_a_note(runner, tmp_path):
    rows = [row + [note] for row, note in zip(UNITS_ZH, ["备注", "", "新设"], strict=True)]
    result = run(runner, write_csv(tmp_path / "units.csv", rows))
    assert result.exit_code == 0, result.output
    assert counts()[0] == 2
    assert "units.csv: ignored the columns 备注" in result.stderr


def test_a_deleted_unit_listed_again_is_restored(runner, make, tmp_path):
    gone = make.unit(code="JZK", name="建筑业管理科")
    gone.deleted_at = datetime.now(UTC)
    db.session.commit()
    result = run(runner, write_csv(tmp_path / "units.csv", UNITS_ZH))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Unit, gone.id).deleted_at is None
