"""Load the demo bureau into the database. Flush, never commit: the CLI commits once."""

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..auth.passwords import hash_password, verify_password
from ..errors import Problem
from ..extensions import db
from ..models import Plan, Site, Unit, User, utcnow
from ..plans import draws
from ..registry.services import seed_categories, unit_by_code
from . import activity, data, evidence
from .activity import LOCAL
from .bulletin import publish_last_month
from .capture import capture
from .evidence import Shot
from .followup import FollowUp, open_cases
from .trail import write_trail

SEED = 20260101  # one seed, so every load tells the same story relative to its day
DRAW_RULES = {"per_week": 4, "team": 2}
NAMESPACE = uuid.UUID("6d696e67-6368-4164-a56d-6f2d62757265")  # the demo bureau's ids


def is_loaded() -> bool:
    """True when the demo bureau is already in the database."""
    return unit_by_code(data.UNITS[0][0]) is not None


def conflicts() -> list[str]:
    """Unit codes, site codes and usernames the demo needs that are taken already."""
    taken = db.session.scalars(db.select(Unit.code).where(
        Unit.code.in_([code for code, *_rest in data.UNITS]))).all()
    taken += db.session.scalars(db.select(Site.code).where(
        Site.code.in_([row[0] for row in data.SITES]))).all()
    taken += db.session.scalars(db.select(User.username).where(
        User.username.in_([row[0] for row in data.accounts()]))).all()
    return sorted(taken)


def password_matches(password: str) -> bool:
    """Whether the demo accounts still take ``password`` (checked on one of them)."""
    stored = db.session.scalar(db.select(User.password_hash).where(
        User.username == data.accounts()[0][0]))
    return stored is not None and verify_password(stored, password)


@dataclass
class Month:
    """The demo bureau and its month, added to the session; the evidence's files not made."""

    units: dict[str, Unit]
    sites: dict[str, Site]
    users: dict[str, User]
    plans: list[tuple[Plan, int]]
    draws: list
    checks: list
    findings: list
    followup: FollowUp
    shots: list[Shot]


def load_demo(password: str, now: datetime | None = None, seed: int = SEED,
              media: bool = False) -> dict:
    """Add the demo bureau with a month of activity ending at ``now``; return the counts.
    ``media``: with the evidence, made and processed as uploads are (some seconds; the
    command does; tests of other things need not wait for it)."""
    now = now or utcnow()
    month = add_month(password, now, seed, media)
    db.session.flush()
    capture(month.shots)
    write_trail(month.followup, month.shots, month.users)
    db.session.flush()
    bulletin = publish_last_month(now, month.users) if media else None
    shots = month.shots
    return {"bulletin": bulletin, "draws": month.draws, "units": len(month.units),
            "sites": len(month.sites), "users": len(month.users), "plans": len(month.plans),
            "checks": len(month.checks), "findings": len(month.findings),
            "published": sum(1 for f in month.findings if f.published_at),
            "cases": len(month.followup.cases),
            "evidence": Counter(shot.evidence.kind for shot in shots),
            "pending": sum(shot.evidence.review_state == "pending" for shot in shots)}


def add_month(password: str, now: datetime, seed: int = SEED, media: bool = False) -> Month:
    """The records of the demo bureau and its month up to ``now``, with the evidence's
    records when ``media`` (their files are made by ``capture``)."""
    rng = random.Random(seed)
    seed_categories()
    units = _add_units()
    sites = _add_sites(units)
    users = _add_people(units, hash_password(password))
    plans = _add_plans(now, users, sites)
    drawn = _draw_covert_checks(now, users, sites, rng)
    plans += [(plan, 1) for plan in db.session.scalars(  # one check under each drawn plan
        db.select(Plan).where(Plan.draw_id.is_not(None)).order_by(Plan.window_start, Plan.title))]
    with db.session.no_autoflush:  # each record of the month is inserted once, complete
        checks = activity.add_checks(rng, now, plans, sites, users)
        findings = activity.add_findings(rng, now, checks)
        followup = open_cases(now, findings, users)
        shots = evidence.plan(rng, now, checks, findings, followup, users) if media else []
    return Month(units, sites, users, plans, drawn, checks, findings, followup, shots)


def _id(kind: str, code: str) -> uuid.UUID:
    """The same id on every load: the draws order their pools by id, and one day must
    always tell one story."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{code}")


def _add_units() -> dict[str, Unit]:
    units = {code: Unit(id=_id("unit", code), code=code, name=name, leader_name=leader)
             for code, name, leader in data.UNITS}
    db.session.add_all(units.values())
    db.session.flush()
    return units


def _add_sites(units: dict[str, Unit]) -> dict[str, Site]:
    sites = {}
    for code, name, kind, unit_code, lat, lon, radius, address in data.SITES:
        sites[code] = Site(id=_id("site", code), code=code, name=name, kind=kind,
                           unit_id=units[unit_code].id, lat=lat, lon=lon, radius_m=radius,
                           address=address)
    db.session.add_all(sites.values())
    db.session.flush()
    return sites


def _add_people(units: dict[str, Unit], password_hash: str) -> dict[str, User]:
    # One hash for everybody: argon2 is slow on purpose, and the password is shared anyway.
    users = {}
    for username, role, name, unit_code, _post in data.accounts():
        users[username] = User(id=_id("user", username), username=username, role=role,
                               name=name, unit_id=units[unit_code].id if unit_code else None,
                               password_hash=password_hash)
    db.session.add_all(users.values())
    db.session.flush()
    return users


def _draw_covert_checks(now: datetime, users: dict[str, User], sites: dict[str, Site],
                        rng: random.Random) -> list:
    """The unannounced checks, drawn as the compiler draws them (双随机): week by week
    from the first week shown to the end of this month, each on the Friday before, then
    next month's at once. Four a week, two supervisors each, from every site and
    supervisor; each draw is in the audit trail for `manage.py plans redraw-check`. The
    seeds come from the demo's own, so that one day always tells one story (the desk
    always draws a fresh secret seed)."""
    today = now.astimezone(LOCAL).date()
    first = activity.month_start(now)
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    periods = []
    monday = first - timedelta(days=first.weekday())
    while monday < next_month + timedelta(days=-next_month.weekday() % 7):
        year, week, _day = monday.isocalendar()
        periods.append((f"{year}-W{week:02}", monday - timedelta(days=3)))
        monday += timedelta(weeks=1)
    periods.append((next_month.strftime("%Y-%m"), next_month - timedelta(days=7)))
    supervisors = [u for u in users.values() if u.role == "supervisor"]
    return [_draw(users["compiler"], period, list(sites.values()), supervisors,
                  f"{rng.getrandbits(128):032x}",
                  min(datetime.combine(day, time(16), LOCAL), now))
            for period, day in periods]


def _draw(compiler: User, period: str, sites: list[Site], supervisors: list[User], seed: str,
          at: datetime):
    """One draw; refused for leaving units unchecked at a quarter's end, drawn again
    with more checks a week, as the compiler would."""
    rules = dict(DRAW_RULES)
    while True:
        try:
            return draws.make(compiler, period, "covert", sites, supervisors, rules,
                              seed=seed, at=at)
        except Problem:
            if rules["per_week"] >= len(sites):
                raise
            rules["per_week"] += 2


def _add_plans(now: datetime, users: dict[str, User], sites: dict[str, Site]):
    """The plans, each with how many checks were made under it."""
    first_day = activity.month_start(now)
    plans = []
    for title, mode, assignees, site_codes, first, last, count in data.PLANS:
        start = datetime.combine(first_day + timedelta(days=first), time(8), LOCAL)
        end = datetime.combine(first_day + timedelta(days=last), time(18), LOCAL)
        dates = f"{start.month}月{start.day}日至{end.month}月{end.day}日"
        plan = Plan(title=f"{title}（{dates}）", mode=mode, window_start=start,
                    window_end=end, created_by=users["compiler"].id,
                    sites=[sites[code] for code in site_codes],
                    assignees=[users[name] for name in assignees])
        plan.created_at = plan.updated_at = min(start - timedelta(days=2), now)
        plans.append((plan, count))
    db.session.add_all(plan for plan, _count in plans)
    db.session.flush()
    return plans
