"""The phone simulator: field staff record checks offline and sync over a bad network.

Each simulated phone signs in, pulls the registry, records checks and findings offline
(with notes added and findings corrected or withdrawn as inspectors do), and syncs
through a ``FaultyTransport`` until its outbox is empty. Then every account pulls
everything afresh over a clean connection, and report.py compares what the phones meant
the server to hold with what it holds.
"""

import random
import tempfile
import time
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


def run(base_url: str, accounts: list[tuple[str, str]], phones: int = 3,
        checks_per_phone: int = 5, drop_requests: float = 0.2, drop_responses: float = 0.2,
        duplicate: float = 0.05, seed: int = 1, backoff: Backoff | None = None,
        workdir: str | None = None) -> Report:
    """Run ``phones`` phones at once (accounts taken in turn) and compare the outcome."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mingcha-phones-", dir=workdir) as tmp:
        options = {"checks": checks_per_phone, "drop_requests": drop_requests,
                   "drop_responses": drop_responses, "duplicate": duplicate, "seed": seed,
                   "backoff": backoff, "dir": Path(tmp), "base_url": base_url}
        before = set(_clean_pull(base_url, accounts, Path(tmp) / "before"))
        with ThreadPoolExecutor(max_workers=phones) as pool:
            runs = list(pool.map(lambda n: _phone(n, accounts[n % len(accounts)], options),
                                 range(phones)))
        held = _clean_pull(base_url, accounts, Path(tmp) / "after")
    report = Report(phones=runs, held=held, before=before, seed=seed,
                    seconds=time.monotonic() - started)
    report.differences = compare(runs, held, before)
    return report


def _phone(n: int, account: tuple[str, str], options: dict) -> PhoneRun:
    """One phone's day: sign in, pull, work offline with syncs now and then, sync fully."""
    rng = random.Random(options["seed"] * 1_000 + n)
    transport = FaultyTransport(seed=rng.randrange(2**32), drop_requests=options[
        "drop_requests"], drop_responses=options["drop_responses"],
        duplicate=options["duplicate"], delay=0.1)
    backoff = _own_backoff(options["backoff"], rng)
    phone = PhoneRun(name=f"phone{n + 1}", username=account[0])
    with Client(options["base_url"], options["dir"] / f"{phone.name}.db", transport,
                backoff=backoff, page_size=200) as client:
        _until_done(lambda: client.login(*account, f"模拟手机{n + 1}"))
        _until_done(client.pull)
        user_id = client.user["id"]
        for _ in range(options["checks"]):
            _record_check(rng, client, phone, user_id)
            if rng.random() < 0.3:
                _try(client.sync)  # a moment of signal in the field
        phone.synced = _sync_fully(client)
        _finish(phone, client, transport)
    return phone


def _own_backoff(template: Backoff | None, rng: random.Random) -> Backoff:
    """Each phone its own jitter stream (Random is not shared between threads)."""
    template = template or Backoff(base=0.05, cap=1.0, max_attempts=8)
    return Backoff(base=template.base, factor=template.factor, cap=template.cap,
                   max_attempts=template.max_attempts, rng=random.Random(rng.random()),
                   sleep=template.sleep)


def _record_check(rng: random.Random, client: Client, phone: PhoneRun, user_id: str):
    """One visit: a check, its findings, notes added later, a correction or withdrawal."""
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
    """Sync until the outbox is empty and a pull went through."""
    return any(_try(client.sync) and client.store.outbox_size() == 0
               for _ in range(FINAL_ROUNDS))


def _finish(phone: PhoneRun, client: Client, transport: FaultyTransport):
    phone.faults = transport.counts.copy()
    phone.stats = client.stats.copy()
    phone.conflicts = client.store.conflicts()
    phone.rejections = client.store.rejections()
    phone.local = snapshot(client)
    phone.outbox = client.store.outbox_size()


def _clean_pull(base_url: str, accounts: list[tuple[str, str]], folder: Path) -> dict:
    """Everything the accounts may see, pulled from the start over a good connection."""
    folder.mkdir()
    held = {}
    for username, password in dict.fromkeys(accounts):
        with Client(base_url, folder / f"{username}.db",
                    backoff=Backoff(base=0.2, max_attempts=10)) as client:
            client.login(username, password, "核对用终端")
            client.pull()
            held |= snapshot(client)
            client.logout()
    return held

