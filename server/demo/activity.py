"""A month of demo activity: checks and findings. Adds, never flushes: the month is written
at once (services.load_demo)."""

import math
import random
from datetime import date, datetime, time, timedelta, timezone

from ..extensions import db
from ..models import Category, Check, Finding, Plan, Site, User
from . import data

# China keeps +08:00 all year (no DST since 1991): a fixed offset is exact and needs no tzdata.
LOCAL = timezone(timedelta(hours=8), "Asia/Shanghai")
MONTH = 30  # days of history before today
FINDING_SHARE = 0.3  # of checks that note a problem
OUTSIDE_CHECKS = 5  # phones whose position fell just outside the geofence
PUBLISH_AFTER = timedelta(days=8)  # older findings have been reviewed and published
PUBLISHED = 7
WINDOW_SITES = {"JG08"}  # the service window, where the public is served
METRES_PER_DEGREE = 111_320


def month_start(now: datetime) -> date:
    """The first day of the demo month, in the bureau's time zone."""
    return now.astimezone(LOCAL).date() - timedelta(days=MONTH)


def _working_days(first: date, last: date) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def add_checks(rng: random.Random, now: datetime, plans: list[tuple[Plan, int]],
               sites: dict[str, Site], users: dict[str, User]) -> list[Check]:
    """Checks under each plan by its assignees, and a few open ones outside any plan."""
    today = now.astimezone(LOCAL).date()
    diary = Diary()
    checks = []
    for plan, count in plans:
        first = max(plan.window_start.astimezone(LOCAL).date(), month_start(now))
        last = (plan.window_end - timedelta(seconds=1)).astimezone(LOCAL).date()
        days = _working_days(first, min(last, today))
        targets = rng.sample(plan.sites, k=len(plan.sites))  # every site before any twice
        for n in range(count):
            checks.append(_visit(rng, now, days, diary, targets[n % len(targets)],
                                 rng.choice(plan.assignees), plan))
    inspectors = [user for user in users.values() if user.role == "inspector"]
    days = _working_days(month_start(now), today)
    for site in rng.sample(list(sites.values()), k=data.AD_HOC_CHECKS):
        checks.append(_visit(rng, now, days, diary, site, rng.choice(inspectors), None))
    checks = sorted((check for check in checks if check), key=lambda check: check.started_at)
    outside = set(rng.sample(checks, k=min(OUTSIDE_CHECKS, len(checks))))
    for check in checks:
        check.location = _location(rng, check.site, outside=check in outside)
    db.session.add_all(checks)
    return checks


class Diary:
    """Who is where when: nobody is in two places at once, no site is visited twice a day."""

    TRAVEL = timedelta(minutes=30)

    def __init__(self):
        self.visits: dict[User, list[tuple[datetime, datetime]]] = {}
        self.site_days: set[tuple[str, date]] = set()

    def free(self, author: User, site: Site, start: datetime, end: datetime) -> bool:
        if (site.code, start.date()) in self.site_days:
            return False
        return all(end + self.TRAVEL <= other_start or other_end + self.TRAVEL <= start
                   for other_start, other_end in self.visits.get(author, ()))

    def book(self, author: User, site: Site, start: datetime, end: datetime):
        self.visits.setdefault(author, []).append((start, end))
        self.site_days.add((site.code, start.date()))


def _visit(rng, now, days, diary: Diary, site, author, plan) -> Check | None:
    """One check on a working day, in working hours, finished before ``now``."""
    if not days:
        return None
    for _attempt in range(20):
        start, end = _visit_times(rng, rng.choice(days))
        if end <= now and diary.free(author, site, start, end):
            break
    else:
        return None
    diary.book(author, site, start, end)
    received = min(end + timedelta(minutes=rng.randint(2, 90)), now)
    return Check(plan=plan, site=site, author=author, mode=plan.mode if plan else "open",
                 started_at=start, ended_at=end, notes="",
                 received_at=received, created_at=received, updated_at=received)


def _visit_times(rng, day: date) -> tuple[datetime, datetime]:
    # Office hours: sign-in checks from 08:20, afternoon rounds from 14:30.
    morning, afternoon = rng.randint(8 * 60 + 20, 11 * 60), rng.randint(14 * 60 + 30, 16 * 60 + 50)
    minute = rng.choice((morning, afternoon))
    start = datetime.combine(day, time(minute // 60, minute % 60), LOCAL)
    return start, start + timedelta(minutes=rng.randint(15, 50))


def _location(rng, site: Site, outside: bool) -> dict:
    """Where the phone said it was: well inside the geofence, or just outside it."""
    distance = site.radius_m * (rng.uniform(1.1, 1.6) if outside else rng.uniform(0, 0.7))
    bearing = rng.uniform(0, 2 * math.pi)
    north, east = distance * math.cos(bearing), distance * math.sin(bearing)
    lat = site.lat + north / METRES_PER_DEGREE
    lon = site.lon + east / (METRES_PER_DEGREE * math.cos(math.radians(site.lat)))
    location = {"lat": round(lat, 6), "lon": round(lon, 6)}
    if rng.random() < 0.85:  # some phones report no accuracy
        location["accuracy_m"] = rng.choice((5, 8, 10, 12, 20, 35))
    return location


def _kind(site: Site) -> str:
    if site.code in WINDOW_SITES:
        return "window"
    return "office" if site.kind == "office" else "works"


def add_findings(rng: random.Random, now: datetime, checks: list[Check]) -> list[Finding]:
    """Findings on about a third of the checks; older ones reviewed, some published."""
    with db.session.no_autoflush:  # checks get their notes below: insert them once, complete
        categories = {c.code: c for c in db.session.scalars(db.select(Category))}
    majors = _major_targets(checks)
    others = [check for check in checks if check not in majors]
    found = set(rng.sample(others, k=round(len(checks) * FINDING_SHARE) - len(majors)))
    findings = []
    for check in checks:
        kind = _kind(check.site)
        if check in majors:
            (code, text), severity = data.MAJOR_FINDINGS[kind], "major"
        elif check in found:
            (code, text), severity = rng.choice(data.FINDINGS[kind]), "general"
        else:
            check.notes = _notes(rng, check, kind, None)
            continue
        check.notes = _notes(rng, check, kind, text)
        findings.append(Finding(
            check=check, category=categories[code], severity=severity, description=text,
            unit_id=check.site.unit_id, created_by=check.author.id,
            created_at=check.received_at, updated_at=check.received_at))
    _review(rng, now, findings)
    db.session.add_all(findings)
    return findings


def _major_targets(checks: list[Check]) -> dict[Check, str]:
    """The month's major problems: the first covert works check and the first window check."""
    works = next((c for c in checks
                  if c.mode == "covert" and c.site.kind == "construction_site"), None)
    window = next((c for c in checks if c.site.code in WINDOW_SITES), None)
    return {check: kind for check, kind in ((works, "works"), (window, "window")) if check}


def _notes(rng, check: Check, kind: str, problem: str | None) -> str:
    topics = rng.sample(data.TOPICS[kind], k=rng.choice((1, 2)))
    text = ("暗访，未亮明身份。" if check.mode == "covert" else "") + "；".join(topics) + "。"
    if problem:
        return text + data.OUTCOME_FOUND.format(problem=problem)
    return text + rng.choice(data.OUTCOME_CLEAR[kind])


def _review(rng, now: datetime, findings: list[Finding]):
    """Publish a handful of the older findings and confirm some of the rest."""
    old = [f for f in findings if now - f.check.started_at > PUBLISH_AFTER]
    chosen = [f for f in old if f.severity == "major"]
    others = [f for f in old if f.severity != "major"]
    chosen += rng.sample(others, k=max(0, min(len(others), PUBLISHED - len(chosen))))
    for finding in findings:
        age = now - finding.check.started_at
        if finding in chosen:
            finding.state, finding.published_at = "confirmed", _publication(finding, now)
        elif age > timedelta(days=3) and rng.random() < 0.5:
            finding.state = "confirmed"  # awaiting the month's bulletin


def _publication(finding: Finding, now: datetime) -> datetime:
    """Ten o'clock two days after the check, or the next working day."""
    return min(on_working_day(finding.check.started_at + timedelta(days=2), time(10)), now)


def on_working_day(moment: datetime, clock: time) -> datetime:
    """``clock`` o'clock on the day of ``moment``, or on the next working day."""
    day = moment.astimezone(LOCAL).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, clock, LOCAL)
