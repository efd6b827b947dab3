"""Desk pages on PostgreSQL: the review queue (GET /review) and the case list (GET /cases),
each next to its own SQL run raw.

    .venv/bin/python bench/desk_bench.py [--evidence 10000] [--cases 1000] [--rounds 50]
        [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--profile] [--verbose]

A fresh database is migrated and seeded in bulk (Core inserts, so no change-feed hooks):
units, sites, people, ~1 check per 5 evidence, findings, the evidence in a realistic mix of
states and the cases across their statuses. A reviewer signs in through /login; each page
is then fetched through Flask's test client in-process (routing, the session cookie, the
queries, the template). "Raw" replays the very statements one warm request of that page
issued, with its parameters, on an open psycopg connection, fetching every row.
Target (issue 10, point 10): each page <= 3x its raw SQL, by the median; p95 printed too.
--profile adds the top of a cProfile of a few requests of each page.
"""

import argparse
import cProfile
import gc
import io
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch_db import (  # noqa: E402  (bench/ is on the path)
    create_database,
    drop_database,
    migrate_and_add_a_site,
)
from verbosity import log_levels, progress  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402

TARGET, WARM_UP, PASSWORD = 3.0, 5, "bench-password"
PAGES = {"/review": "data-item", "/cases": "<tr><td>"}  # and what marks one row of each
PROBLEMS = ("上班时间离岗，未履行外出报批手续", "工地围挡破损，扬尘未覆盖",
            "窗口人员脱岗，办事群众排队等候", "施工现场未设安全警示标志",
            "道路开挖未按规定恢复路面", "值班记录缺失，台账不全")
CASE_MIX = {"open": 15, "notified": 20, "rectifying": 25, "submitted": 10, "verified": 10,
            "closed": 15, "reopened": 5}


def _ids(rng, n):
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


def _people():
    """Through the app's own service, for real password hashes: (reviewer, inspectors)."""
    from server.registry.services import create_user

    for n in range(1, 7):
        db.session.execute(sa.insert(db.metadata.tables["units"]).values(
            id=uuid.uuid4(), code=f"U{n:02}", name=f"第{n}科", leader_name=f"领导{n}"))
    inspectors = [create_user(f"inspector{n}", "inspector", PASSWORD, name=f"检查员{n}")
                  for n in range(1, 9)]
    create_user("supervisor1", "supervisor", PASSWORD, name="督查员")
    create_user("compiler1", "compiler", PASSWORD, name="汇编员")
    create_user("contact1", "unit", PASSWORD, name="联络员", unit_code="U01")
    reviewer = create_user("reviewer", "reviewer", PASSWORD, name="审核员")
    db.session.flush()
    return reviewer, inspectors


def _registry(conn, rng, now, reviewer):
    """Sites over the units, and ten plans; returns (site -> unit, plan ids)."""
    units = conn.execute(sa.text("SELECT id FROM units")).scalars().all()
    sites = [{"id": i, "code": f"S{n:03}", "name": f"工地{n}号", "kind": "construction_site",
              "unit_id": rng.choice(units), "lat": 34.2 + rng.random() / 10,
              "lon": 117.1 + rng.random() / 10, "radius_m": 300}
             for n, i in enumerate(_ids(rng, 40), 2)]
    conn.execute(db.metadata.tables["sites"].insert(), sites)
    plans = [{"id": i, "title": f"第{n}批暗访", "mode": "covert", "created_by": reviewer.id,
              "window_start": now - timedelta(days=120), "window_end": now}
             for n, i in enumerate(_ids(rng, 10), 1)]
    conn.execute(db.metadata.tables["plans"].insert(), plans)
    site_units = dict(conn.execute(sa.text("SELECT id, unit_id FROM sites")).all())
    return site_units, [p["id"] for p in plans]


def _checks(conn, rng, now, n, site_units, plans, inspectors):
    rows = []
    for i in _ids(rng, n):
        start = now - timedelta(days=120 * rng.random())
        rows.append({"id": i, "site_id": rng.choice(list(site_units)), "started_at": start,
                     "mode": rng.choice(("covert", "covert", "open")), "notes": "上下班签到检查",
                     "plan_id": rng.choice(plans) if rng.random() < 0.7 else None,
                     "ended_at": start + timedelta(hours=1), "received_at": start,
                     "created_by": rng.choice(inspectors).id, "created_at": start,
                     "updated_at": start, "location": {"lat": 34.26, "lon": 117.19}})
    conn.execute(db.metadata.tables["checks"].insert(), rows)
    return rows


def _findings(conn, rng, checks, n_cases, site_units, reviewer):
    """Findings on random checks; the first ``n_cases`` confirmed (each gets a case)."""
    categories = conn.execute(sa.text("SELECT id FROM categories")).scalars().all()
    rows = []
    for n, i in enumerate(_ids(rng, n_cases + n_cases // 2)):
        check = rng.choice(checks)
        at = check["started_at"] + timedelta(minutes=30)
        state = "confirmed" if n < n_cases else rng.choice(("pending", "pending", "dismissed"))
        rows.append({"id": i, "check_id": check["id"], "category_id": rng.choice(categories),
                     "severity": rng.choice(("general", "general", "major")),
                     "description": rng.choice(PROBLEMS), "unit_id": site_units[check["site_id"]],
                     "state": state, "created_by": check["created_by"], "created_at": at,
                     "updated_at": at, "decided_by": reviewer.id if state != "pending" else None,
                     "decided_at": at + timedelta(days=1) if state != "pending" else None})
    conn.execute(db.metadata.tables["findings"].insert(), rows)
    return rows


def _review(rng):
    """(review state, state): most pending and ready, as a desk with a backlog has."""
    review = rng.choices(("pending", "accepted", "needs_info", "rejected"), (70, 20, 5, 5))[0]
    if review != "pending":
        return review, "ready"
    return review, rng.choices(("ready", "failed", "processing", "awaiting_upload"),
                               (92, 3, 3, 2))[0]


def _files(rng, i, kind, state):
    """The derivatives the media job would have stored, by kind."""
    if state != "ready":
        return None
    names = {"photo": ("thumb.jpg", "preview.jpg"), "video": ("poster.jpg", "preview.mp4"),
             "audio": ("preview.m4a",)}[kind]
    return {name: {"key": f"derivatives/{i}/{name}", "size": rng.randrange(9000, 400_000)}
            for name in names}


def _flags(rng, at):
    flags = []
    if rng.random() < 0.05:
        flags.append({"flag": "captured_outside_check", "captured_at": at.isoformat()})
    if rng.random() < 0.03:
        flags.append({"flag": "near_duplicate", "evidence_id": str(uuid.uuid4()), "distance": 4})
    return flags


def _one_evidence(rng, i, check, finding_id, reviewer):
    at = check["started_at"] + timedelta(seconds=rng.randrange(3600))
    kind = rng.choices(("photo", "video", "audio"), (85, 10, 5))[0]
    review, state = _review(rng)
    spot = {"lat": 34.26 + rng.gauss(0, 0.002), "lon": 117.19 + rng.gauss(0, 0.002),
            "accuracy_m": rng.randrange(3, 40)}
    geofence = rng.choices(("inside", "outside", "unknown"), (85, 8, 7))[0]
    return {"id": i, "check_id": check["id"], "finding_id": finding_id, "kind": kind,
            "sha256": f"{rng.getrandbits(256):064x}", "size": rng.randrange(200_000, 8_000_000),
            "filename": f"IMG_{rng.randrange(10_000):04}.jpg", "captured_at": at,
            "location": spot, "created_by": check["created_by"], "state": state,
            "review_state": review, "reviewed_by": None if review == "pending" else reviewer.id,
            "reviewed_at": None if review == "pending" else at + timedelta(days=1),
            "review_note": "请补拍全景" if review in ("needs_info", "rejected") else None,
            "media": {"width": 4000, "height": 3000, "captured_at": at.isoformat(), "gps": spot}
            if kind == "photo" and state == "ready" else None,
            "geofence": geofence if state == "ready" else None,
            "distance_m": rng.uniform(0, 900) if state == "ready" else None,
            "derivatives": _files(rng, i, kind, state), "flags": _flags(rng, at),
            "storage_key": f"originals/{i}", "uploaded_at": at + timedelta(minutes=5),
            "clock_offset_s": rng.choice((0.4, -2.0, 12.0, 900.0)) if rng.random() < 0.5
            else None, "phash": f"{rng.getrandbits(64):016x}" if kind == "photo" else None,
            "created_at": at, "updated_at": at}


def _evidence(conn, rng, n, checks, findings, reviewer):
    """Evidence on random checks; four in ten of a check with findings belong to one."""
    of_check = {}
    for finding in findings:
        of_check.setdefault(finding["check_id"], []).append(finding["id"])
    rows = []
    for i in _ids(rng, n):
        check = rng.choice(checks)
        mine = of_check.get(check["id"])
        finding_id = rng.choice(mine) if mine and rng.random() < 0.4 else None
        rows.append(_one_evidence(rng, i, check, finding_id, reviewer))
    for start in range(0, n, 2000):
        conn.execute(db.metadata.tables["evidence"].insert(), rows[start:start + 2000])


def _cases(conn, rng, now, findings, n):
    rows = []
    for finding in findings[:n]:
        status = rng.choices(list(CASE_MIX), list(CASE_MIX.values()))[0]
        opened = finding["decided_at"]
        deadline = (opened + timedelta(days=rng.choice((7, 15, 30)))).date()
        late = deadline < now.date() and status in ("notified", "rectifying", "reopened")
        rows.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4),
                     "finding_id": finding["id"], "unit_id": finding["unit_id"],
                     "leader_name": "包挂领导", "deadline": deadline, "status": status,
                     "overdue": late and rng.random() < 0.6, "created_at": opened,
                     "updated_at": opened, "notified_at": None if status == "open" else opened,
                     "closed_at": opened + timedelta(days=20) if status == "closed" else None})
    conn.execute(db.metadata.tables["cases"].insert(), rows)
    published = [r["finding_id"] for r in rows if r["status"] != "open"]
    conn.execute(sa.update(db.metadata.tables["findings"]).where(
        db.metadata.tables["findings"].c.id.in_(published)).values(published_at=now))


def seed(app, n_evidence: int, n_cases: int) -> dict:
    """The bureau in bulk; returns how many of each record it holds."""
    rng, now = random.Random(10), datetime.now(UTC)
    with app.app_context():
        from server.registry.services import seed_categories

        migrate_and_add_a_site()
        seed_categories()
        reviewer, inspectors = _people()
        db.session.commit()
        with db.engine.begin() as conn:  # Core inserts: no unit of work, no feed hooks
            site_units, plans = _registry(conn, rng, now, reviewer)
            checks = _checks(conn, rng, now, max(10, n_evidence // 5), site_units, plans,
                             inspectors)
            findings = _findings(conn, rng, checks, n_cases, site_units, reviewer)
            _evidence(conn, rng, n_evidence, checks, findings, reviewer)
            _cases(conn, rng, now, findings, n_cases)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))  # as autovacuum would have by now
            counts = {name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar()
                      for name in ("evidence", "checks", "findings", "cases")}
            counts["queue"] = conn.execute(sa.text(
                "SELECT count(*) FROM evidence WHERE review_state = 'pending'"
                " AND state IN ('ready', 'failed')")).scalar()
            counts["postgres"] = conn.execute(sa.text("SHOW server_version")).scalar()
        db.session.remove()
    return counts


def sign_in(app):
    """A browser of the reviewer's, signed in by the form (cookie and CSRF token)."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    signed = client.post("/login", data={"username": "reviewer", "password": PASSWORD,
                                         "csrf_token": token})
    assert signed.status_code == 302, signed.get_data(as_text=True)[:2000]
    return client


def fetch(client, path) -> tuple[float, int]:
    """(seconds, rows shown) of one whole request of the page."""
    start = time.perf_counter()
    response = client.get(path)
    body = response.get_data(as_text=True)
    spent = time.perf_counter() - start
    assert response.status_code == 200, (path, response.status_code, body[:2000])
    return spent, body.count(PAGES[path])


def capture(engine, client, path) -> list[tuple[str, object]]:
    """The statements (with parameters) one request of the page sends to PostgreSQL."""
    seen = []

    def note(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        fetch(client, path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    writes = [s for s, _p in seen if not s.lstrip().upper().startswith("SELECT")]
    if writes:
        raise SystemExit(f"{path} writes, so replaying it raw would change the data: {writes}")
    return seen


def replay(conn, statements) -> float:
    """The page's statements on an open connection, every row fetched; one transaction,
    rolled back like the request's."""
    start = time.perf_counter()
    with conn.cursor() as cur:
        for statement, parameters in statements:
            cur.execute(statement, parameters)
            if cur.description is not None:
                cur.fetchall()
    conn.rollback()
    return time.perf_counter() - start


def shape(statement: str, width=150) -> str:
    """A statement on one line, its long list of columns cut so its FROM and WHERE show."""
    text = re.sub(r"^SELECT (.{60,}?) FROM ", "SELECT … FROM ", " ".join(statement.split()))
    return text if len(text) <= width else text[:width - 1] + "…"


def repeated(statements) -> list[str]:
    """Statements sent more than once by one request, which is how an N+1 shows."""
    shapes = Counter(shape(s) for s, _p in statements)
    return [f"{n}x {text}" for text, n in shapes.most_common() if n > 1]


def p95(times):
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def report(path, statements, rows, page, raw):
    ratio = statistics.median(page) / statistics.median(raw)
    print(f"GET {path:<8} {len(statements):>4} statements  {rows:>3} rows   page "
          f"{statistics.median(page) * 1000:7.2f} / {p95(page) * 1000:7.2f} ms   raw SQL "
          f"{statistics.median(raw) * 1000:7.2f} / {p95(raw) * 1000:7.2f} ms   ratio "
          f"{ratio:5.2f} (p95 {p95(page) / p95(raw):5.2f})  target <= {TARGET:g}  "
          f"{'PASS' if ratio <= TARGET else 'FAIL'}")
    for line in repeated(statements) or ["no statement repeated (no N+1)"]:
        print(f"    {line}")


def profile(client, path, n=20):
    """The top of a cProfile of ``n`` requests of the page: the Mingcha code by cumulative
    time (where the request goes), then all functions by their own time (what costs)."""
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [fetch(client, path) for _ in range(n)])
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"/server/", 20)
    stats.sort_stats("tottime").print_stats(25)
    print(f"\n--- cProfile of {n} requests of GET {path} ---\n{out.getvalue()}")


def measure(app, url, rounds, say, verbose):
    """Rounds of each page and of its raw SQL, taking turns; then the figures."""
    client = sign_in(app)
    with app.app_context():
        engine = db.engine
    for path in PAGES:
        for _ in range(WARM_UP):
            fetch(client, path)
    captured = {path: capture(engine, client, path) for path in PAGES}
    times = {path: ([], [], fetch(client, path)[1]) for path in PAGES}
    # As in sync_bench: freeze what set-up made so a full collection of this process's
    # heap does not land at random in one side's rounds.
    gc.collect()
    gc.freeze()
    with psycopg.connect(url) as conn:
        for path in PAGES:
            for _ in range(WARM_UP):
                replay(conn, captured[path])
        say(f"{rounds} rounds, each page then its raw SQL")
        for _ in range(rounds):
            for path, (page, raw, _rows) in times.items():
                page.append(fetch(client, path)[0])
                raw.append(replay(conn, captured[path]))
    for path, (page, raw, rows) in times.items():
        report(path, captured[path], rows, page, raw)
        if verbose:
            with psycopg.connect(url) as conn:
                each(conn, captured[path])
    return client


def each(conn, statements, n=5):
    """With --verbose: each distinct statement of the page (how many times it was sent),
    by the median raw time of ``n`` runs of its first sending."""
    first = {}
    for statement, parameters in statements:
        first.setdefault(shape(statement), [0, statement, parameters])[0] += 1
    for text, (sent, statement, parameters) in first.items():
        times = [replay(conn, [(statement, parameters)]) for _ in range(n)]
        print(f"    {sent:>3}x {statistics.median(times) * 1000:7.2f} ms  {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--evidence", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--profile", action="store_true",
                        help="also a cProfile of 20 requests of each page")
    parser.add_argument("--verbose", action="store_true",
                        help="also the progress, the request log and each page's statements")
    args = parser.parse_args()
    if args.rounds < 2 or args.cases < 1 or args.evidence < 1:
        parser.error("a p95 needs 2 rounds or more, and there must be evidence and cases")
    log_levels(args.verbose)
    say = progress(args.verbose)
    name, url = create_database(args.admin_url)
    try:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
            "SECRET_KEY": "bench", "REDIS_URL": None,
            "MEDIA_ROOT": tempfile.mkdtemp(prefix=name), "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024})
        say(f"scratch database {name}: migrating and seeding")
        start = time.perf_counter()
        counts = seed(app, args.evidence, args.cases)
        print(f"PostgreSQL {counts['postgres']}: {counts['evidence']:,} evidence "
              f"({counts['queue']:,} waiting in the review queue), {counts['checks']:,} checks, "
              f"{counts['findings']:,} findings, {counts['cases']:,} cases; seeded in "
              f"{time.perf_counter() - start:.1f} s")
        print(f"Pages through Flask's test client in-process (routing, session cookie, queries,"
              f" template) as a reviewer; raw SQL: the statements of one warm request replayed"
              f" with their parameters on an open psycopg connection, all rows fetched.\n"
              f"Figures: median / p95 of {args.rounds} rounds after {WARM_UP} warm-up, page and"
              f" raw SQL taking turns; ratio = page median / raw median.")
        client = measure(app, url, args.rounds, say, args.verbose)
        if args.profile:
            for path in PAGES:
                profile(client, path)
    finally:
        drop_database(args.admin_url, name)


if __name__ == "__main__":
    main()
