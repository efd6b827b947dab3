"""Load the demo bureau into the database. Flush, never commit: the CLI commits once."""

import random
from collections import Counter
from datetime import datetime, time, timedelta

from ..auth.passwords import hash_password, verify_password
from ..extensions import db
from ..models import Plan, Site, Unit, User, utcnow
from ..plans import draws
from ..registry.services import seed_categories, unit_by_code
from . import activity, data, evidence
from .activity import LOCAL
from .bulletin import publish_last_month
from .capture import capture
from .followup import open_cases
from .trail import write_trail

SEED = 20260101  # one seed, so every load tells the same story relative to its day


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


def load_demo(password: str, now: datetime | None = None, seed: int = SEED,
              media: bool = False) -> dict:
    """Add the demo bureau with a month of activity ending at ``now``; return the counts.
    ``media``: with the evidence, made and processed as uploads are (some seconds; the
    command does; tests of other things need not wait for it)."""
    now = now or utcnow()
    rng = random.Random(seed)
    seed_categories()
    units = _add_units()
    sites = _add_sites(units)
    users = _add_people(units, hash_password(password))
    plans = _add_plans(now, users, sites)
    with db.session.no_autoflush:  # each record of the month is inserted once, complete
        checks = activity.add_checks(rng, now, plans, sites, users)
        findings = activity.add_findings(rng, now, checks)
        followup = open_cases(now, findings, users)
        shots = evidence.plan(rng, now, checks, findings, followup, users) if media else []
    db.session.flush()
    capture(shots)
    write_trail(followup, shots, users)
    db.session.flush()
    bulletin = publish_last_month(now, users) if media else None
    drawn = _draw_next_month(now, users, sites)
    return {"bulletin": bulletin, "draw": drawn, "units": len(units), "sites": len(sites),
            "users": len(users), "plans": len(plans) + len(drawn.result),
            "checks": len(checks), "findings": len(findings),
            "published": sum(1 for f in findings if f.published_at),
            "cases": len(followup.cases),
            "evidence": Counter(shot.evidence.kind for shot in shots),
            "pending": sum(shot.evidence.review_state == "pending" for shot in shots)}


def _add_units() -> dict[str, Unit]:
    units = {code: Unit(code=code, name=name, leader_name=leader)
             for code, name, leader in data.UNITS}
    db.session.add_all(units.values())
    db.session.flush()
    return units


def _add_sites(units: dict[str, Unit]) -> dict[str, Site]:
    sites = {}
    for code, name, kind, unit_code, lat, lon, radius, address in data.SITES:
        sites[code] = Site(code=code, name=name, kind=kind, unit_id=units[unit_code].id,
                           lat=lat, lon=lon, radius_m=radius, address=address)
    db.session.add_all(sites.values())
    db.session.flush()
    return sites


def _add_people(units: dict[str, Unit], password_hash: str) -> dict[str, User]:
    # One hash for everybody: argon2 is slow on purpose, and the password is shared anyway.
    users = {}
    for username, role, name, unit_code, _post in data.accounts():
        users[username] = User(username=username, role=role, name=name,
                               unit_id=units[unit_code].id if unit_code else None,
                               password_hash=password_hash)
    db.session.add_all(users.values())
    db.session.flush()
    return users


def _draw_next_month(now: datetime, users: dict[str, User], sites: dict[str, Site]):
    """Next month's unannounced checks, drawn as the compiler draws them (双随机): three
    a week, two supervisors each, from every site and supervisor; recorded in the audit
    trail so that `manage.py plans redraw-check` confirms it."""
    today = now.astimezone(LOCAL).date()
    period = f"{today.year + today.month // 12}-{today.month % 12 + 1:02}"
    supervisors = [u for u in users.values() if u.role == "supervisor"]
    return draws.make(users["compiler"], period, "covert", list(sites.values()), supervisors,
                      {"per_week": 3, "team": 2})


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
