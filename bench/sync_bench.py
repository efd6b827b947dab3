"""Sync benchmark on PostgreSQL: pull 10,000 changes in pages of 1,000, push one batch of
500 mutations; each next to raw SQL (psycopg + orjson) doing the same reads or inserts.

    .venv/bin/python bench/sync_bench.py [--admin-url postgresql://postgres@127.0.0.1/test]
        [--verbose]

Targets: pull <= 1.5x raw, push <= 2x raw (issue 14; issue 3 asked for 2x and 3x).
Prints the figures and the ratios; with --verbose also each round's figures, the
progress and the app's line per request.
"""

import argparse
import gc
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch_db import (  # noqa: E402  (bench/ is on the path)
    create_database,
    drop_database,
    migrate_and_add_a_site,
)
from verbosity import log_levels, progress  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402

PAGE, TOTAL, BATCH, ROUNDS = 1000, 10_000, 500, 9


def _app(url: str, tmp: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                             "postgresql+psycopg://", 1),
                      "SECRET_KEY": "bench", "REDIS_URL": None, "MEDIA_ROOT": str(tmp),
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024})
    with app.app_context():
        from server.registry.services import create_user, seed_categories

        site = migrate_and_add_a_site()
        seed_categories()
        create_user("writer", "inspector", "bench-password")
        create_user("reader", "compiler", "bench-password")
        db.session.commit()
        return app, str(site.id)


def _sign_in(client, username):
    answer = client.post("/api/v1/auth/device", json={
        "username": username, "password": "bench-password", "device_name": "bench"}).json
    return answer["device_id"], {"Authorization": f"Bearer {answer['token']}"}


def _mutations(site_id: str, n: int) -> list[dict]:
    return [{"id": str(uuid.uuid4()), "type": "check", "op": "upsert",
             "entity_id": str(uuid.uuid4()), "base_version": None,
             "data": {"site_id": site_id, "mode": "covert", "notes": "上下班签到检查",
                      "started_at": "2026-11-30T09:12:03+08:00",
                      "location": {"lat": 34.26, "lon": 117.19, "accuracy_m": 8}}}
            for _ in range(n)]


def push_once(client, device_id, headers, site_id) -> float:
    """One push of BATCH new checks. Times the server's answer only: the body is encoded
    before and the answer read after, as the phone does that work (the raw side has no
    request to encode)."""
    body = orjson.dumps({"device_id": device_id, "mutations": _mutations(site_id, BATCH)})
    start = time.perf_counter()
    response = client.post("/api/v1/sync/push", headers=headers, data=body,
                           content_type="application/json")
    spent = time.perf_counter() - start
    assert response.status_code == 200
    assert all(r["status"] == "applied" for r in orjson.loads(response.data)["results"])
    return spent


def raw_push_once(conn, site_id: str, user_id: str, device_id: str) -> float:
    """The same rows written straight: records, remembered mutations and the feed."""
    muts = _mutations(site_id, BATCH)
    start = time.perf_counter()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO checks (id, version, created_at, updated_at, site_id, mode,"
            " started_at, notes, location, created_by, received_at) VALUES "
            "(%s, 1, now(), now(), %s, %s, %s, %s, %s, %s, now())",
            [(m["entity_id"], site_id, "covert", m["data"]["started_at"], m["data"]["notes"],
              orjson.dumps(m["data"]["location"]).decode(), user_id) for m in muts])
        cur.executemany(
            "INSERT INTO applied_mutations (id, device_id, type, entity_id, digest,"
            " version, applied_at) VALUES (%s, %s, 'check', %s, %s, 1, now())",
            [(m["id"], device_id, m["entity_id"], "0" * 64) for m in muts])
        audience = f" role:compiler role:inspector role:reviewer sup:{user_id} "
        cur.executemany(
            "INSERT INTO changes (type, entity_id, op, version, data, audience, at)"
            " VALUES ('check', %s, 'upsert', 1, %s, %s, now())",
            [(m["entity_id"], orjson.dumps(m["data"]).decode(), audience) for m in muts])
    conn.commit()
    return time.perf_counter() - start


def pull_all(client, headers) -> float:
    """The whole feed in pages. Times the server's answers only: the phone's parsing of
    them is not the server's cost (the raw side does not parse its pages either)."""
    cursor, got, spent = None, 0, 0.0
    while True:
        params = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
        start = time.perf_counter()
        response = client.get("/api/v1/sync/pull", headers=headers, query_string=params)
        spent += time.perf_counter() - start
        body = orjson.loads(response.data)
        got += len(body["changes"])
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert got >= TOTAL
    return spent


def raw_pull_all(conn) -> float:
    """The same pages read straight from the feed (JSON kept as text) and sent by orjson."""
    start, after = time.perf_counter(), 0
    while True:
        rows = conn.execute(
            "SELECT seq, type, entity_id, op, version, data::text FROM changes "
            "WHERE seq > %s ORDER BY seq LIMIT %s", (after, PAGE)).fetchall()
        if not rows:
            break
        orjson.dumps({"changes": [
            {"type": t, "entity_id": e, "op": o, "version": v,
             "data": orjson.Fragment(d) if d is not None else None}
            for _s, t, e, o, v, d in rows], "cursor": str(rows[-1][0]),
            "more": len(rows) == PAGE})
        after = rows[-1][0]
    return time.perf_counter() - start


def take_turns(ours, raw) -> tuple[list[float], list[float]]:
    """ROUNDS of each side, alternating: a slow spell of the machine falls on both."""
    ours_times, raw_times = [], []
    for _ in range(ROUNDS):
        ours_times.append(ours())
        raw_times.append(raw())
    return ours_times, raw_times


def _rounds(name, ours, raw):
    """Each round's figures, with --verbose."""
    for n, (a, b) in enumerate(zip(ours, raw, strict=True), 1):
        print(f"{name:<20} round {n}  mingcha {a * 1000:8.1f} ms   raw SQL {b * 1000:8.1f} ms")


def _line(name, ours, raw, target):
    a, b = statistics.median(ours), statistics.median(raw)
    verdict = "ok" if a / b <= target else "OVER TARGET"
    print(f"{name:<34} mingcha {a * 1000:8.1f} ms   raw SQL {b * 1000:8.1f} ms   "
          f"ratio {a / b:5.2f}  (target <= {target})  {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--verbose", action="store_true",
                        help="also each round's figures, the progress and the request log")
    args = parser.parse_args()
    log_levels(args.verbose)
    say = progress(args.verbose)
    name, url = create_database(args.admin_url)
    try:
        say(f"scratch database {name}: migrating, two users, a site")
        app, site_id = _app(url, Path(tempfile.mkdtemp(prefix=name)))
        # Each request pushes an app context of its own, and so has a session of its own,
        # as under gunicorn. One session kept from request to request (as this benchmark
        # did until stop 22) reloaded the token's device, expired by the last commit, on
        # every push; and it kept one transaction open across all the pages of a pull,
        # sparing each page the connection's check-out, BEGIN and ROLLBACK that a phone's
        # request pays (about 3 ms a page here).
        client = app.test_client()
        device_id, headers = _sign_in(client, "writer")
        _reader, reader_headers = _sign_in(client, "reader")
        with app.app_context():
            from server.models import User

            writer_id = str(db.session.scalar(
                db.select(User.id).where(User.username == "writer")))
        # Both sides run in this process, whose heap (app, SQLAlchemy, the test data) a
        # full garbage collection walks in ~50 ms, at random moments of either side's
        # rounds. Freeze what set-up made, as a preloading server does after start-up.
        gc.collect()
        gc.freeze()
        with psycopg.connect(url) as conn:
            say(f"push: {ROUNDS} rounds of {BATCH} mutations, mingcha and raw SQL in turn")
            push_times, raw_push_times = take_turns(
                lambda: push_once(client, device_id, headers, site_id),
                lambda: raw_push_once(conn, site_id, writer_id, device_id))
            say(f"pushing until the feed holds {TOTAL + 20} changes")
            while conn.execute("SELECT count(*) FROM changes").fetchone()[0] < TOTAL + 20:
                conn.rollback()
                push_once(client, device_id, headers, site_id)
            conn.rollback()
            say(f"pull: {ROUNDS} rounds of the whole feed, mingcha and raw SQL in turn")
            pull_times, raw_pull_times = take_turns(
                lambda: pull_all(client, reader_headers), lambda: raw_pull_all(conn))
        if args.verbose:
            _rounds(f"push {BATCH} mutations", push_times, raw_push_times)
            _rounds(f"pull {TOTAL} changes", pull_times, raw_pull_times)
        print(f"PostgreSQL, {BATCH} mutations per push, {TOTAL}+ changes pulled in pages of "
              f"{PAGE}; median of {ROUNDS} rounds, the two sides taking turns")
        _line(f"push {BATCH} mutations", push_times, raw_push_times, 2.0)
        _line(f"pull {TOTAL} changes", pull_times, raw_pull_times, 1.5)
    finally:
        drop_database(args.admin_url, name)


if __name__ == "__main__":
    main()
