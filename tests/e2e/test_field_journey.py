"""The field app on a phone (Debian's chromium at 390 px, driven by Playwright, with a
granted position and a fake microphone): a supervisor signs in, goes offline, makes a
covert check of their plan with three photos, a voice note, a finding and a note, reloads
with no signal and finds everything, then syncs: the server holds every record and every
byte. A large photo's upload is cut by the network, or by the app being closed, and
resumes from the server's offset.
A reviewer asks for more at the desk; the phone shows the note and answers with a photo.

Screenshots of every screen go to ``artifacts/field/`` (or ``$MINGCHA_ARTIFACTS``), kept
by CI as test artifacts, never committed.
"""

import hashlib
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from PIL.TiffImagePlugin import IFDRational as R

from server.evidence.storage import storage
from server.extensions import db
from server.models import Check, Device, Evidence, Finding, Upload
from tests.conftest import PASSWORD
from tests.e2e.phone import Phone, sign_in
from tests.media.photo_samples import exif_for, scene

GPS = {"GPSLatitudeRef": "N", "GPSLatitude": (R(34, 1), R(15, 1), R(3636, 100)),
       "GPSLongitudeRef": "E", "GPSLongitude": (R(117, 1), R(11, 1), R(2472, 100))}


def _photo(folder: Path, name: str, seed: int) -> Path:
    path = folder / name
    scene(seed, (1600, 1200)).save(path, "JPEG", quality=88,
                                   exif=exif_for(make="HUAWEI", gps=GPS).tobytes())
    return path


def _large_photo(folder: Path) -> Path:
    """About 12 MB of noise: three chunks of tus-js-client's 5 MiB."""
    noise = random.Random(5).randbytes(3600 * 2400 * 3)
    path = folder / "IMG_large.jpg"
    Image.frombytes("RGB", (3600, 2400), noise).save(
        path, "JPEG", quality=97, exif=exif_for(make="HUAWEI", gps=GPS).tobytes())
    assert path.stat().st_size > 10 * 1024 * 1024
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(evidence: Evidence) -> bytes:
    with storage().open(evidence.storage_key) as f:
        return f.read()


def _fresh():
    db.session.commit()
    db.session.expire_all()


def _desk(chromium, base, user):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def test_a_covert_check_offline_then_synced_and_answered(app, make, live_server, phone_browser,
                                                         tmp_path):
    unit = make.unit(name="建筑业管理科")
    site = make.site(unit, name="纺织东路道路工程", lat=34.2600, lon=117.1900, radius_m=300)
    far = make.site(unit, name="临黄村道路硬化工程", lat=34.40, lon=117.40)
    supervisor, other = make.user("supervisor"), make.user("supervisor")
    inspector, reviewer = make.user("inspector"), make.user("reviewer")
    plan = make.plan([site], [supervisor], mode="covert", by=inspector)
    hidden = make.plan([far], [other], mode="covert", by=inspector)
    hidden.title = "另一名监督员的暗访计划"
    db.session.commit()
    category = make.category("absent")
    photos = [_photo(tmp_path, f"IMG_000{i}.jpg", seed=i) for i in range(1, 4)]

    phone = Phone(phone_browser, live_server)
    page = phone.page
    sign_in(phone, supervisor, shot="signin")
    page.wait_for_selector(f"text={plan.title}")
    # Sites nearest first; a plan of someone else never reaches this phone.
    names = page.locator("button.site .name").all_inner_texts()
    assert names.index(site.name) < names.index(far.name)
    assert hidden.title not in page.content()
    assert phone.state("m.store.all('plan').length") == 1
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    phone.shot("home")

    # No signal from here on.
    phone.context.set_offline(True)
    page.click(f"a[href='#/start/{site.id}/{plan.id}']")
    page.wait_for_selector("text=这是暗访")
    phone.shot("start-covert")
    page.click(".actions button")
    page.wait_for_selector("[role=alertdialog]")
    phone.shot("covert-confirm")
    page.click("[role=alertdialog] button.danger")
    page.wait_for_selector("[data-testid=take-photo]")
    for photo in photos:  # one at a time, as a camera gives them
        phone.capture("take-photo", photo)
    page.click("[data-testid=record-audio]")
    page.wait_for_timeout(2500)
    page.click("[data-testid=stop-audio]")
    phone.wait("m.store.outbox.filter((x) => x.type === 'evidence').length === 4")
    page.fill("input[name=note]", "8:35到达现场，签到表已拍照留存")
    page.click("form.row button[type=submit]")
    page.click("text=记一条问题")
    page.select_option("select[name=category]", str(category.id))
    page.check("input[name=severity][value=major]")
    page.fill("textarea[name=description]", "上班时间离岗，未履行外出报批手续")
    boxes = page.locator("input[name=evidence]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    phone.shot("finding")
    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_selector(".card:has-text('上班时间离岗')")
    phone.shot("check-offline")
    check_id = page.url.rsplit("/", 1)[1]

    # Reloaded with no signal: the app comes from the service worker, the check from
    # IndexedDB, all of it.
    page.reload()
    page.wait_for_selector("[data-testid=take-photo]")
    assert page.locator("ul.evidence li").count() == 4
    assert page.locator(".card:has-text('上班时间离岗')").count() == 1
    assert "签到表已拍照留存" in page.inner_text(".notes")
    assert _count(Check) == 0  # nothing has left the phone
    page.click("nav a[href='#/sync']")
    assert page.inner_text("[data-testid=pending-files]").startswith("4")
    phone.shot("sync-offline")

    # Signal again: everything goes up by itself.
    phone.context.set_offline(False)
    phone.synced()
    phone.wait("[...m.store.files.values()].length === 0")  # kept until the server had it ready
    phone.shot("sync-done")
    _fresh()
    check = db.session.get(Check, _uuid(check_id))
    assert (check.mode, check.plan_id, check.created_by) == ("covert", plan.id, supervisor.id)
    assert check.notes == "8:35到达现场，签到表已拍照留存"
    assert check.location["accuracy_m"] == 8
    finding = db.session.scalar(sa.select(Finding).where(Finding.check_id == check.id))
    assert (finding.severity, finding.category_id) == ("major", category.id)
    assert finding.description == "上班时间离岗，未履行外出报批手续"
    evidence = db.session.scalars(sa.select(Evidence).where(Evidence.check_id == check.id)
                                  .order_by(Evidence.captured_at, Evidence.kind)).all()
    assert sorted(e.kind for e in evidence) == ["audio", "photo", "photo", "photo"]
    assert all(e.state == "ready" for e in evidence), [e.failure for e in evidence]
    by_sha = {e.sha256: e for e in evidence}
    for photo in photos:
        assert _stored(by_sha[_sha(photo)]) == photo.read_bytes()  # byte-exact
    voice = next(e for e in evidence if e.kind == "audio")
    assert hashlib.sha256(_stored(voice)).hexdigest() == voice.sha256
    assert voice.media["duration_s"] >= 1.5
    assert sum(e.finding_id == finding.id for e in evidence) == 2
    assert all(e.location and e.location["lat"] == pytest.approx(34.2601) for e in evidence)

    # A large photo; the network goes in the middle of its upload and comes back.
    page.goto(f"{live_server}/field/#/check/{check_id}")
    page.wait_for_selector("[data-testid=take-photo]")
    large = _large_photo(tmp_path)
    cdp = phone.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {  # ~2 MB/s up: the upload takes seconds
        "offline": False, "latency": 20, "downloadThroughput": -1,
        "uploadThroughput": 2 * 1024 * 1024})
    phone.uploads.clear()
    phone.capture("gallery", large)
    _wait_for_offset(lambda: _upload_of(_sha(large)), at_least=1024 * 1024)
    phone.context.set_offline(True)
    page.wait_for_timeout(500)
    cut_at = _upload_of(_sha(large)).offset
    assert 0 < cut_at < large.stat().st_size
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    phone.context.set_offline(False)
    phone.synced()
    upload = _upload_of(_sha(large))
    assert upload.offset == upload.length == large.stat().st_size
    sent = [u for u in phone.uploads if u[1].endswith(str(upload.id))]
    heads = [i for i, u in enumerate(sent) if u[0] == "HEAD"]
    assert heads, sent
    resumed = next(u for u in sent[heads[-1]:] if u[0] == "PATCH")
    assert int(resumed[2]) == int(sent[heads[-1]][2]) > 0  # from the server's offset
    assert sum(u[0] == "POST" for u in phone.uploads) == 1  # the same upload, not a new one
    _fresh()
    big = db.session.scalar(sa.select(Evidence).where(Evidence.sha256 == _sha(large)))
    assert _stored(big) == large.read_bytes()

    # The reviewer asks for more; the phone shows it and answers with a photo.
    asked = by_sha[_sha(photos[0])]
    desk, desk_page = _desk(phone_browser, live_server, reviewer)
    desk_page.goto(f"{live_server}/review/{asked.id}")
    desk_page.fill("textarea[name=note]", "照片看不清签到表，请补拍签到表近景")
    desk_page.click("button[value=needs_info]")
    desk_page.wait_for_selector(".flash")
    page.click("nav a[href='#/sync']")
    page.click("text=立即同步")
    page.goto(f"{live_server}/field/#/check/{check_id}")
    page.wait_for_selector("[data-testid=needs-info]:has-text('请补拍签到表近景')")
    phone.shot("needs-info")
    answer = _photo(tmp_path, "IMG_answer.jpg", seed=9)
    phone.capture("answer-photo", answer)
    phone.synced()
    _fresh()
    more = db.session.scalar(sa.select(Evidence).where(Evidence.sha256 == _sha(answer)))
    assert (more.check_id, more.finding_id) == (check.id, asked.finding_id)
    assert _stored(more) == answer.read_bytes()
    desk_page.goto(f"{live_server}/review")
    desk_page.wait_for_selector(f"a[href*='/review/{more.id}']")
    desk.close()

    # Signing out revokes this phone's token and leaves nothing on it.
    page.click("nav a[href='#/settings']")
    phone.shot("settings")
    page.click("button:has-text('退出登录')")
    page.click("[role=alertdialog] button.primary")
    page.wait_for_selector("input[name=username]")
    assert phone.state("m.store.records.size + m.store.outbox.length") == 0
    _fresh()
    device = db.session.scalar(sa.select(Device).where(Device.user_id == supervisor.id))
    assert device.revoked_at is not None
    phone.context.close()


def _count(model) -> int:
    _fresh()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _uuid(text):
    import uuid

    return uuid.UUID(text)


def _upload_of(sha256: str) -> Upload | None:
    _fresh()
    return db.session.scalar(sa.select(Upload).where(Upload.sha256 == sha256))


def _wait_for_offset(find, at_least, seconds=30):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        upload = find()
        if upload is not None and upload.offset >= at_least:
            return upload
        time.sleep(0.05)
    raise AssertionError("the upload did not start")


def test_an_upload_cut_by_a_closed_app_resumes_from_the_servers_offset(
        app, make, live_server, phone_browser, tmp_path):
    site = make.site(name="碧水湾桥", lat=34.2601, lon=117.1902, radius_m=300)
    supervisor = make.user("supervisor")
    phone = Phone(phone_browser, live_server)
    sign_in(phone, supervisor)
    page = phone.page
    page.goto(f"{live_server}/field/#/start/{site.id}")
    page.click(".actions button")
    page.wait_for_selector("[data-testid=take-photo]")
    check_id = page.url.rsplit("/", 1)[1]
    large = _large_photo(tmp_path)
    cdp = phone.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": -1,
        "uploadThroughput": 2 * 1024 * 1024})
    phone.capture("gallery", large)
    _wait_for_offset(lambda: _upload_of(_sha(large)), at_least=1024 * 1024)
    page.close()  # the app is swiped away in the middle of the upload

    phone.uploads.clear()
    page = phone.page = phone.context.new_page()
    page.on("request", phone._request)
    page.on("response", phone._response)
    page.goto(f"{live_server}/field/#/check/{check_id}")
    phone.synced()
    upload = _upload_of(_sha(large))
    assert upload.offset == upload.length == large.stat().st_size
    methods = [u[0] for u in phone.uploads]
    assert methods[0] == "HEAD" and "POST" not in methods, phone.uploads
    assert int(phone.uploads[1][2]) == int(phone.uploads[0][2]) > 0  # on from the server's offset
    _fresh()
    stored = db.session.scalar(sa.select(Evidence).where(Evidence.sha256 == _sha(large)))
    assert _stored(stored) == large.read_bytes()
    phone.context.close()
