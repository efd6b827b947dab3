"""The registry imported from the browser: upload, a preview naming every problem by file,
sheet and row and what each good row would change, then one press that imports everything
or nothing; and the attacks on it: broken, disguised and oversized files, forged posts, a
token taken to another browser."""

import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from server.auth.passwords import verify_password
from server.extensions import db
from server.models import AuditEvent
from server.registry import pending
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
from tests.server.sync.conftest import Phone

IMPORT = "/admin/registry/import"


def _file(path) -> tuple:
    return (io.BytesIO(path.read_bytes()), path.name)


def upload(browser, *files, status=303):
    """Upload (bytes-or-path, name) pairs; the answer's Location."""
    sent = [f if isinstance(f, tuple) else _file(f) for f in files]
    sent = [(io.BytesIO(data), name) if isinstance(data, bytes) else (data, name)
            for data, name in sent]
    answer = browser.post(IMPORT, {"files": sent}, status=status)
    return answer.headers.get("Location", "")


def _events(action: str) -> list[AuditEvent]:
    db.session.commit()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def _kept_folders(app) -> list:
    from pathlib import Path

    root = Path(app.config["UPLOAD_DIR"]) / pending.FOLDER
    return sorted(root.iterdir()) if root.is_dir() else []


def _flash(page: str) -> str:
    found = re.search(r'<p class="flash (?:error|info)" role="alert">([^<]*)</p>', page)
    return found.group(1) if found else ""


# --- A good import ----------------------------------------------------------------------

def test_good_files_are_previewed_then_imported_with_made_up_passwords_shown_once(
        admin, make, client, tmp_path, app):
    phone = Phone(client, make.user("inspector"))
    phone.pull()
    before = counts()
    people = [*PEOPLE_ZH, ["chenjing", "陈静", "审核员", "", "", ""]]  # no password: made up
    preview = upload(admin, write_csv(tmp_path / "单位.csv", UNITS_ZH),
                     write_xlsx(tmp_path / "registry.xlsx", {"检查对象": SITES_ZH,
                                                             "人员": people}))
    page = admin.page(preview)
    assert counts() == before  # nothing yet
    assert "Units: 2 new, 0 changed, 0 unchanged" in page
    assert "Sites: 2 new" in page and "People: 3 new" in page
    assert "registry.xlsx · 检查对象 · row 2" in page and "单位.csv · row 3" in page
    assert 'action="' + preview + '"' in page and ">Import</button>" in page

    done = admin.post(preview, status=200)
    assert done.headers["Cache-Control"] == "no-store"
    result = done.get_data(as_text=True)
    made = re.search(r"<td>chenjing</td><td>陈静</td><td><code>([^<]+)</code>", result).group(1)
    assert verify_password(user("chenjing").password_hash, made)
    assert "jiandu-2024" not in result  # a password the file gave is the file's business
    assert counts() == (before[0] + 2, before[1] + 2, before[2] + 3)
    assert site("FZDL").unit.code == "CJK" and unit("JZK").leader_name == "王建国"

    summary = _events("registry_imported")
    assert len(summary) == 1 and summary[0].actor_id == admin.user.id
    files = summary[0].detail["files"]
    assert [f["name"] for f in files] == ["单位.csv", "registry.xlsx"]
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in files)
    assert len(_events("unit_created")) == 2 and len(_events("site_created")) == 2
    imported = [e for e in _events("user_created") if e.detail.get("via") == "import"]
    assert sorted(e.detail["username"] for e in imported) == ["chenjing", "liuyang", "zhangwei"]
    trail = " ".join(str(e.detail) for e in db.session.scalars(sa.select(AuditEvent)))
    assert made not in trail and "jiandu-2024" not in trail

    pulled = {(c["type"], c["data"]["code"]) for c in phone.pull() if c["type"] == "site"}
    assert pulled == {("site", "FZDL"), ("site", "JZK-OFFICE")}
    assert _kept_folders(app) == []  # the files are gone once imported

    again = admin.post(preview)  # a second press, or the back button
    assert again.headers["Location"].endswith(IMPORT)
    assert "no longer waiting" in _flash(admin.page(IMPORT))
    assert counts() == (before[0] + 2, before[1] + 2, before[2] + 3)
    assert len(_events("registry_imported")) == 1


def test_a_second_import_shows_what_changes_and_keeps_passwords(admin, make, tmp_path):
    make.unit(code="JZK", name="建管科")
    units = write_csv(tmp_path / "units.csv", UNITS_ZH)
    page = admin.page(upload(admin, units))
    assert "Units: 1 new, 1 changed, 0 unchanged" in page
    assert re.search(r"Units · JZK</td>\s*<td>changed: 单位名称, 包挂领导", page)
    admin.post(upload(admin, units), status=200)  # uploading again replaces the first
    unit("JZK").deleted_at = unit("JZK").created_at
    db.session.commit()
    restore = upload(admin, units)
    assert "changed: restored" in admin.page(restore)
    admin.post(restore, status=200)
    assert unit("JZK").deleted_at is None
    people = write_csv(tmp_path / "people.csv", PEOPLE_ZH)
    first = upload(admin, units, people)
    page = admin.page(first)
    assert "People: 2 new" in page and "Units: 0 new, 0 changed, 2 unchanged" in page
    admin.post(first, status=200)
    hash_before = user("zhangwei").password_hash
    again = upload(admin, write_csv(tmp_path / "people.csv", [
        PEOPLE_ZH[0], ["zhangwei", "张伟", "政风行风监督员", "", "13900000000", "new-pass-2025"]]))
    page = admin.page(again)
    assert "changed: 电话" in page and "the password in the file is not used" in page
    done = admin.post(again, status=200).get_data(as_text=True)
    assert "their passwords were not changed: zhangwei" in done
    assert user("zhangwei").password_hash == hash_before
    assert user("zhangwei").phone == "13900000000"


# --- Problems: every one shown, nothing imported ----------------------------------------

def test_the_preview_names_every_problem_by_file_sheet_and_row_and_imports_nothing(
        admin, make, tmp_path):
    make.unit(code="JZK", name="建管科")
    before = counts()
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_ZH, ["chenjing", "陈静", "巡查员"]])
    book = write_xlsx(tmp_path / "sites.xlsx", {"检查对象": [
        *SITES_ZH, ["BSW", "碧水湾桥", "工地", "CJK", "95", "117.2", "300", ""],
        ["LYNL", "梨园南路", "道路", "LDS", "34.25", "117.18", "0", ""]]})
    preview = upload(admin, write_csv(tmp_path / "units.csv", UNITS_ZH), people, book)
    page = admin.page(preview)
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>",
                      page)
    assert ("people.csv", "", "4", "角色: unknown role 巡查员; use one of 督查组成员, 监督员, "
            "审核员, 督查组长, 单位联系人, 管理员 / inspector, supervisor, reviewer, compiler, "
            "unit, admin.") in [tuple(r) for r in rows] or any(
        r[:3] == ("people.csv", "", "4") and "unknown role 巡查员" in r[3] for r in rows)
    assert any(r[:3] == ("sites.xlsx", "检查对象", "4") and "95 is outside" in r[3] for r in rows)
    assert any(r[:3] == ("sites.xlsx", "检查对象", "5") and "no unit has the code LDS" in r[3]
               for r in rows)
    assert any(r[:3] == ("sites.xlsx", "检查对象", "5") and "radius" in r[3] for r in rows)
    assert "4 problems: nothing can be imported" in page
    assert ">Import</button>" not in page

    refused = admin.post(preview)  # pressed anyway, by a forged form
    assert refused.headers["Location"].endswith(preview)
    assert "Nothing was imported: 4 problems." in _flash(admin.page(preview))
    assert counts() == before and unit("JZK").name == "建管科"
    assert _events("registry_imported") == []


def test_a_change_made_after_the_preview_stops_the_import(admin, make, tmp_path):
    road = make.unit(code="CJK")
    office = make.unit(code="JZK")
    preview = upload(admin, write_csv(tmp_path / "sites.csv", SITES_ZH))
    assert ">Import</button>" in admin.page(preview)
    road.deleted_at = road.created_at  # someone deletes a unit meanwhile
    db.session.commit()
    before = counts()
    admin.post(preview)
    page = admin.page(preview)  # the upload is still there, with the problem now
    assert "Nothing was imported: 1 problem." in _flash(page)
    assert "the unit CJK has been deleted" in page
    assert counts() == before and office.code == "JZK"


@pytest.mark.parametrize(("name", "data", "said"), [
    ("broken.xlsx", b"PK\x03\x04" + b"\x00garbage" * 200, "not a readable XLSX workbook"),
    ("setup.xlsx", b"MZ\x90\x00\x03" + b"\x00" * 500 + b"This program cannot be run in DOS",
     "the name ends in .xlsx but the file is not an Excel workbook"),
    ("units.csv", b"MZ\x90\x00\x03" + b"\x00" * 500, "neither a CSV file nor an XLSX workbook"),
    ("old.csv", bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 100, "old Excel .xls workbook"),
    ("empty.csv", b"", "the file is empty"),
    ("utf16.csv", "单位编码,单位名称\nJZK,建筑\n".encode("utf-16"), "neither a CSV file"),
    ("latin.csv", b"code,name\nJZK,\xff\xfe\n", "neither UTF-8 nor GB18030"),
    ("header.csv", b"colour,size\nred,9\n", "cannot tell whether this table lists units"),
])
def test_broken_or_disguised_files_are_refused_with_a_message(admin, make, name, data, said):
    before = counts()
    page = admin.page(upload(admin, (data, name)))
    assert said in page and ">Import</button>" not in page
    assert "Traceback" not in page and counts() == before


@pytest.mark.parametrize(("name", "said"), [
    ("setup.exe", "neither an XLSX workbook nor a CSV file"),
    ("units.xls", "neither an XLSX workbook nor a CSV file"),
    ("registry", "neither an XLSX workbook nor a CSV file"),
])
def test_other_file_types_are_refused_at_once(admin, app, name, said):
    location = upload(admin, (b"MZ\x90\x00" + b"\x00" * 100, name))
    assert location.endswith(IMPORT)
    assert said in _flash(admin.page(IMPORT))
    assert _kept_folders(app) == []


def test_no_file_and_too_many_files_are_refused(admin, app, tmp_path):
    admin.post(IMPORT, {})
    assert "Choose one or more" in _flash(admin.page(IMPORT))
    csv = write_csv(tmp_path / "units.csv", UNITS_ZH)
    upload(admin, *[csv] * (pending.MAX_FILES + 1))
    assert "At most 10 files" in _flash(admin.page(IMPORT))
    assert _kept_folders(app) == []


def _post_multipart(browser, name: str, data: bytes):
    """A browser's upload of one file, the body made here: the test client would spool a
    large one to a temporary file that it leaves open when the server stops reading."""
    boundary = "----mingcha-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{browser.token()}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="files"; filename="{name}"\r\nContent-Type: text/csv\r\n\r\n').encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return browser.client.post(IMPORT, data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")


def test_an_upload_over_5_mb_is_refused_with_a_message(admin, app):
    six = b"a,b\n" + b"x" * (6 * 1024 * 1024)
    answer = _post_multipart(admin, "big.csv", six)  # over the server's body limit
    assert answer.status_code == 303 and answer.headers["Location"].endswith(IMPORT)
    assert "at most 5 MB together" in _flash(admin.page(IMPORT))
    app.config["MAX_CONTENT_LENGTH"] = 50 * 1024 * 1024  # a server that takes more
    answer = _post_multipart(admin, "big.csv", six)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(IMPORT)
    assert "at most 5 MB together" in _flash(admin.page(IMPORT))
    assert _kept_folders(app) == []


def test_a_workbook_that_unpacks_to_too_much_is_refused(admin, app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", b"0" * (pending.MAX_UNPACKED + 1))
    upload(admin, (out.getvalue(), "bomb.xlsx"))
    assert "unpacks to more than 50 MB" in _flash(admin.page(IMPORT))
    assert _kept_folders(app) == []


# --- Whose upload it is --------------------------------------------------------------------

def test_an_upload_is_imported_only_from_the_browser_and_by_the_person_that_made_it(
        admin, make, desk, app, tmp_path):
    other_admin = desk(make.user("admin"))
    same_admin_elsewhere = desk(admin.user)
    before = counts()
    preview = upload(admin, write_csv(tmp_path / "units.csv", UNITS_ZH))
    for browser in (other_admin, same_admin_elsewhere):
        answer = browser.post(preview)
        assert answer.headers["Location"].endswith(IMPORT)
        assert browser.get(preview, status=303).headers["Location"].endswith(IMPORT)
    assert counts() == before and _events("registry_imported") == []
    admin.post(preview, status=200)  # the uploader still can
    assert counts()[0] == before[0] + 2


def test_a_made_up_or_foreign_token_finds_nothing(admin, app, tmp_path):
    for token in ("a" * 32, "../../etc", "A" * 32, "0" * 31, "%2e%2e", "a" * 32 + ".taking"):
        assert admin.client.get(f"{IMPORT}/{token}").status_code in (303, 404)
        answer = admin.client.post(f"{IMPORT}/{token}", data={"csrf_token": admin.token()})
        assert answer.status_code in (303, 404)
    with admin.client.session_transaction() as session:  # even a token in the session
        session["registry_import"] = "b" * 32
    assert admin.post(f"{IMPORT}/{'b' * 32}").headers["Location"].endswith(IMPORT)


def test_an_upload_expires(admin, app, tmp_path, monkeypatch):
    preview = upload(admin, write_csv(tmp_path / "units.csv", UNITS_ZH))
    monkeypatch.setattr(pending, "KEEP_SECONDS", -1)
    admin.get(preview, status=303)
    upload(admin, write_csv(tmp_path / "units.csv", UNITS_ZH))  # the next upload sweeps
    assert len(_kept_folders(app)) == 1


def test_an_upload_or_import_without_its_csrf_token_is_refused(admin, app, tmp_path):
    before = counts()
    units = write_csv(tmp_path / "units.csv", UNITS_ZH)
    admin.post(IMPORT, {"files": [_file(units)]}, status=400, csrf=False)
    assert _kept_folders(app) == []
    preview = upload(admin, units)
    admin.post(preview, status=400, csrf=False)
    assert counts() == before
    assert ">Import</button>" in admin.page(preview)  # still waiting for a real press


def test_markup_in_file_names_and_cells_is_shown_as_text(admin, tmp_path):
    rows = [["单位编码", "单位名称"], ["<b>X</b>", "<script>alert(1)</script>"]]
    page = admin.page(upload(admin, (write_csv(tmp_path / "u.csv", rows).read_bytes(),
                                     "<img src=x onerror=alert(1)>.csv")))
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>X" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page
