"""The phone simulator: field staff record checks offline and sync over a bad network.

Each simulated phone signs in, pulls the registry, records checks and findings offline
(with notes added and findings corrected or withdrawn as inspectors do), and syncs
through a ``FaultyTransport`` until its outbox is empty. Given a ``camera`` it also takes
photos in each check (a few linked to findings, a few discarded again), uploads them by
tus and waits, bounded, until the server has made each one ``ready``. Then every account
pulls everything afresh over a clean connection (and downloads each original), and
report.py compares what the phones meant the server to hold with what it holds.

The camera is the caller's: ``camera(rng, site, captured_at)`` returns the bytes of a
photo (JPEG, say) taken at ``site`` (the site record: ``lat``, ``lon``, ``radius_m``…) at
``captured_at`` (an aware datetime); this library makes no pictures itself.
"""

import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .backoff import Backoff
from .client import Client
from .errors import ServerUnavailable
from .faults import FaultyTransport
from .report import PhoneRun, Report, compare, format_report, snapshot
from .vocabulary import MODES, SEVERITIES

__all__ = ["run", "format_report", "Report"]

LOCAL = timezone(timedelta(hours=8))  # the bureau's time; China has no DST
SUBJECTS = ["上下班签到检查", "外出报批制度执行情况检查", "请销假制度执行情况检查",
            "亮牌上岗检查", "周规划进度检查", "安全文明施工检查", "扬尘治理检查",
            "服务窗口工作纪律检查"]
OBSERVATIONS = ["8:35到达现场，签到表已拍照留存", "抽查在岗人员12名，3人不在岗位",
                "现场负责人陪同检查", "围挡完好，裸土已覆盖", "两名施工人员未佩戴安全帽",
                "周规划公示牌未按期更新", "协办员均已亮牌上岗", "值班领导在岗",
                "渣土车未冲洗即出场", "雾炮机未开启", "外出登记簿记录不全"]
FINDINGS = {"absent": "上班时间离岗，未履行外出报批手续",
            "late_early": "工作人员9:10方到岗，迟到四十分钟",
            "non_work": "窗口工作人员上班时间用手机网购",
            "badge": "协办员未亮牌上岗",
            "attendance_rules": "请假未按规定办理销假手续",
            "weekly_plan": "本周规划进度滞后，未按期完成",
            "site_safety": "临边防护缺失，存在安全隐患",
            "dust_control": "裸土未覆盖，扬尘治理措施不到位"}
FINAL_ROUNDS = 60  # sync attempts at the end before a phone is reported unsynced
Camera = Callable[[random.Random, dict, datetime], bytes]


def run(base_url: str, accounts: list[tuple[str, str]], phones: int = 3,
        checks_per_phone: int = 5, drop_requests: float = 0.2, drop_responses: float = 0.2,
        duplicate: float = 0.05, seed: int = 1, backoff: Backoff | None = None,
        workdir: str | None = None, camera: Camera | None = None,
        photos: tuple[int, int] = (1, 3), discard: float = 0.05, cut: float = 0.0,
        upload_chunk: int | None = None, field_seconds: float = 0.0,
        sync_chance: float = 0.3, ready_seconds: float = 120.0,
        say: Callable[[str], None] | None = None) -> Report:
    """Run ``phones`` phones at once (accounts taken in turn) and compare the outcome.

    With a ``camera``, each check gets ``photos`` (fewest, most) photos, a share
    ``discard`` of them deleted again on the phone; ``cut`` is the share of requests
    whose connection breaks in the middle of the body, ``upload_chunk`` the bytes per
    PATCH. ``field_seconds`` spreads each phone's checks over that long;
    ``ready_seconds`` bounds how long a synced phone waits for its photos to be
    ``ready``. ``say`` hears a line of progress now and then.
    """
    started = time.monotonic()
    say = say or (lambda _text: None)
    with tempfile.TemporaryDirectory(prefix="mingcha-phones-", dir=workdir) as tmp:
        options = {"checks": checks_per_phone, "drop_requests": drop_requests,
                   "drop_responses": drop_responses, "duplicate": duplicate, "seed": seed,
                   "backoff": backoff, "dir": Path(tmp), "base_url": base_url,
                   "camera": camera, "photos": photos, "discard": discard, "cut": cut,
                   "upload_chunk": upload_chunk, "field_seconds": field_seconds,
                   "sync_chance": sync_chance, "ready_seconds": ready_seconds, "say": say}
        before = set(_clean_pull(base_url, accounts, Path(tmp) / "before")[0])
        with ThreadPoolExecutor(max_workers=phones) as pool:
            runs = list(pool.map(lambda n: _phone(n, accounts[n % len(accounts)], options),
                                 range(phones)))
        say(f"{time.monotonic() - started:.0f} s: every phone is done; a clean pull of "
            "every account" + (" and every original" if camera else ""))
        sent_files = {key[1] for p in runs for key, i in p.intended.items()
                      if key[0] == "evidence" and not i.deleted}
        held, files = _clean_pull(base_url, accounts, Path(tmp) / "after", sent_files)
    report = Report(phones=runs, held=held, before=before, seed=seed,
                    seconds=time.monotonic() - started, files=files)
    report.differences = compare(runs, held, before, files if camera else None)
    return report


def _phone(n: int, account: tuple[str, str], options: dict) -> PhoneRun:
    """One phone's day: sign in, pull, work offline with syncs now and then, sync fully;
    with a camera, wait until the server has every photo ready."""
    rng = random.Random(options["seed"] * 1_000 + n)
    # Photos and pacing draw from their own stream: without a camera, a seed still
    # gives the same checks and findings as before phones had cameras.
    extra = random.Random(options["seed"] * 7_919 + n)
    transport = FaultyTransport(seed=rng.randrange(2**32), drop_requests=options[
        "drop_requests"], drop_responses=options["drop_responses"],
        duplicate=options["duplicate"], delay=0.1, cut=options["cut"])
    backoff = _own_backoff(options["backoff"], rng)
    phone = PhoneRun(name=f"phone{n + 1}", username=account[0])
    chunk = {"upload_chunk": options["upload_chunk"]} if options["upload_chunk"] else {}
    pause = options["field_seconds"] / max(1, options["checks"])
    with Client(options["base_url"], options["dir"] / f"{phone.name}.db", transport,
                backoff=backoff, page_size=200, **chunk) as client:
        _until_done(lambda: client.login(*account, f"模拟手机{n + 1}"))
        _until_done(client.pull)
        user_id = client.user["id"]
        for _ in range(options["checks"]):
            if pause:
                time.sleep(extra.uniform(0.5, 1.5) * pause)  # on the way to the next site
            check_id, site = _record_check(rng, client, phone, user_id)
            if options["camera"]:
                _take_photos(extra, client, phone, check_id, site, options)
            if rng.random() < options["sync_chance"]:
                _try(client.sync)  # a moment of signal in the field
        phone.synced = _sync_fully(client)
        if options["camera"]:
            phone.ready = _await_ready(client, options["ready_seconds"])
        _finish(phone, client, transport)
    options["say"](f"{phone.name} done: synced {phone.synced}, files "
                   f"{dict(phone.file_states)}")
    return phone


def _own_backoff(template: Backoff | None, rng: random.Random) -> Backoff:
    """Each phone its own jitter stream (Random is not shared between threads)."""
    template = template or Backoff(base=0.05, cap=1.0, max_attempts=8)
    return Backoff(base=template.base, factor=template.factor, cap=template.cap,
                   max_attempts=template.max_attempts, rng=random.Random(rng.random()),
                   sleep=template.sleep)


def _record_check(rng: random.Random, client: Client, phone: PhoneRun, user_id: str):
    """One visit: a check, its findings, notes added later, a correction or withdrawal.
    Returns the check's id and its site."""
    site, plan, mode = _choose_target(rng, client, user_id)
    started = datetime.now(LOCAL) - timedelta(minutes=rng.randint(20, 300))
    data = {"site_id": site.entity_id, "mode": mode, "started_at": started.isoformat(),
            "notes": rng.choice(SUBJECTS), "location": _near(rng, site.data)}
    if plan is not None:
        data["plan_id"] = plan.entity_id
    check_id = phone.change(client, "check", None, data)
    findings = [_record_finding(rng, client, phone, check_id) for _ in range(rng.randint(0, 2))]
    for line in rng.sample(OBSERVATIONS, k=rng.randint(0, 2)):
        notes = phone.intended["check", check_id].fields["notes"] + "\n" + line
        phone.change(client, "check", check_id, {"notes": notes})
    if rng.random() < 0.8:
        ended = started + timedelta(minutes=rng.randint(10, 50))
        phone.change(client, "check", check_id, {"ended_at": ended.isoformat()})
    for finding_id in findings:
        roll = rng.random()
        if roll < 0.15:
            phone.change(client, "finding", finding_id, {"severity": "major"})
        elif roll < 0.25:
            phone.remove(client, "finding", finding_id)
    return check_id, site


def _take_photos(rng: random.Random, client: Client, phone: PhoneRun, check_id: str, site,
                 options: dict):
    """Photos of the visit, while the check ran; some show a finding, some are discarded."""
    check = phone.intended["check", check_id].fields
    started = datetime.fromisoformat(check["started_at"])
    ended = datetime.fromisoformat(check["ended_at"]) if check.get("ended_at") \
        else started + timedelta(minutes=30)
    findings = [key[1] for key, i in phone.intended.items() if key[0] == "finding"
                and i.fields.get("check_id") == check_id and not i.deleted]
    taken = []
    for _ in range(rng.randint(*options["photos"])):
        when = started + (ended - started) * rng.random()
        fields = {"filename": f"IMG_{when:%Y%m%d_%H%M%S}.jpg",
                  "captured_at": when.isoformat(timespec="seconds")}
        location = _near(rng, site.data)
        if location is not None:
            fields["location"] = location
        if findings and rng.random() < 0.5:
            fields["finding_id"] = rng.choice(findings)
        content = options["camera"](rng, site.data, when)
        taken.append(phone.capture(client, check_id, "photo", content, fields))
    for evidence_id in taken:
        if rng.random() < options["discard"]:
            phone.remove(client, "evidence", evidence_id)  # a blurred one, deleted


def _record_finding(rng: random.Random, client: Client, phone: PhoneRun, check_id: str) -> str:
    categories = {r.data.get("code"): r for r in client.records("category")}
    code = rng.choice([c for c in FINDINGS if c in categories] or [None])
    category = categories[code] if code else rng.choice(list(categories.values()))
    return phone.change(client, "finding", None, {
        "check_id": check_id, "category_id": category.entity_id,
        "severity": rng.choices(SEVERITIES, weights=[4, 1])[0],
        "description": FINDINGS.get(code, "其他问题，详见照片")})


def _choose_target(rng: random.Random, client: Client, user_id: str):
    """A site, and the plan it belongs to when the phone holds one assigned to this user."""
    sites = {r.entity_id: r for r in client.records("site")}
    if not sites:
        raise RuntimeError("the phone pulled no sites; create some first (manage.py demo)")
    plans = [p for p in client.records("plan") if user_id in (p.data.get("assignee_ids") or [])
             and set(p.data.get("site_ids") or []) & set(sites)]
    if plans and rng.random() < 0.6:
        plan = rng.choice(plans)
        site_id = rng.choice(sorted(set(plan.data["site_ids"]) & set(sites)))
        return sites[site_id], plan, plan.data.get("mode") or "covert"
    return sites[rng.choice(sorted(sites))], None, rng.choice(MODES)


def _near(rng: random.Random, site: dict) -> dict | None:
    if site.get("lat") is None or site.get("lon") is None:
        return None
    metres = rng.uniform(0, 0.7 * float(site.get("radius_m") or 100))
    return {"lat": round(site["lat"] + metres / 111_320 * rng.choice([-1, 1]), 6),
            "lon": round(site["lon"], 6), "accuracy_m": round(rng.uniform(3, 25), 1)}


def _try(step) -> bool:
    """Run a sync step; a lost connection is normal in the field."""
    try:
        step()
        return True
    except ServerUnavailable:
        return False


def _until_done(step, rounds: int = FINAL_ROUNDS):
    for _ in range(rounds - 1):
        if _try(step):
            return
    step()  # the last time, let the error out


def _sync_fully(client: Client) -> bool:
    """Sync until the outbox is empty, every file went, and a pull went through."""
    return any(_try(client.sync) and client.store.outbox_size() == 0
               and not client.files.rows("pending") for _ in range(FINAL_ROUNDS))


def _await_ready(client: Client, seconds: float, every: float = 2.0) -> bool:
    """Pull now and then until the server reports every uploaded file's evidence ready
    (or failed), for at most ``seconds``; whether none is left waiting."""
    deadline = time.monotonic() + seconds
    while client.files.rows("pending", "uploaded"):
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
        _try(client.sync)
    return True


def _finish(phone: PhoneRun, client: Client, transport: FaultyTransport):
    phone.faults = transport.counts.copy()
    phone.stats = client.stats.copy()
    phone.conflicts = client.store.conflicts()
    phone.rejections = client.store.rejections()
    phone.local = snapshot(client)
    phone.outbox = client.store.outbox_size()
    phone.files = {row["evidence_id"]: row for row in client.files.rows()}


def _clean_pull(base_url: str, accounts: list[tuple[str, str]], folder: Path,
                originals: set | None = None) -> tuple[dict, dict]:
    """Everything the accounts may see, pulled from the start over a good connection;
    and the sha256 of the stored original of each evidence in ``originals`` (None where
    the server has none)."""
    folder.mkdir()
    held, files = {}, {}
    for username, password in dict.fromkeys(accounts):
        with Client(base_url, folder / f"{username}.db",
                    backoff=Backoff(base=0.2, max_attempts=10)) as client:
            client.login(username, password, "核对用终端")
            client.pull()
            mine = snapshot(client)
            held |= mine
            for evidence_id in sorted(originals or ()):
                if files.get(evidence_id) is None and ("evidence", evidence_id) in mine:
                    files[evidence_id] = client.files.original_sha256(evidence_id)
            client.logout()
    return held, {evidence_id: files.get(evidence_id) for evidence_id in originals or ()}

