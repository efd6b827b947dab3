"""The monthly bulletin (月末通报) at full size: compiling a busy month, then its three files.

    .venv/bin/python bench/bulletin_bench.py [--findings 1000] [--profile] [--tracemalloc]
        [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--verbose]

A scratch PostgreSQL database is migrated and seeded in bulk (Core inserts) with one month,
2026-11 in the bureau's time (Asia/Shanghai): 12 units, 40 sites, 300 checks, 1,000
confirmed findings each with a case (statuses mixed, some overdue) and three photos each,
one of them accepted and the others pending review. Every accepted photo has its
``preview.jpg`` derivative in a scratch media folder: a 1600x1200 JPEG as the media job
stores it (soft colour fields under sensor-like noise, about 260 KB), each one different
(WeasyPrint and python-docx store identical images once, which would flatter them).

Timed: compile_draft of the month (committed); bulletin_photos (each preview read and
re-encoded without metadata, on threads); each writer alone, one after the other —
write_pdf (WeasyPrint, with the matplotlib charts), write_docx (python-docx) and write_xlsx
(openpyxl); then render() whole, as the render job runs it (server/bulletins/render.py:
the photos, then the PDF here while a second process writes the DOCX). Target: the three
files under 10 s on this machine, as render() makes them once it has the photos. Printed
too: the files' sizes, the PDF's pages (pdfinfo) and the process's peak RSS after each
step (getrusage, so it only grows).
--tracemalloc renders the three files again under tracemalloc for each one's peak of
Python allocations (slower; not timed). --profile renders them again under cProfile and
prints where the time goes. The database and folders are removed at the end, even on
failure.
"""

import argparse
import contextlib
import cProfile
import io
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch_db import (  # noqa: E402  (bench/ is on the path)
    create_database,
    drop_database,
    migrate_and_add_a_site,
)
from verbosity import log_levels, progress  # noqa: E402

from media.photo import DERIVATIVE_SIZES, JPEG_QUALITY  # noqa: E402
from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402

MONTH, ZONE, TARGET = "2026-11", "Asia/Shanghai", 10.0
N_UNITS, N_SITES, N_CHECKS, PHOTOS_PER_FINDING = 12, 40, 300, 3
PREVIEW = (max(DERIVATIVE_SIZES), max(DERIVATIVE_SIZES) * 3 // 4)  # a 4:3 photo's preview
UNIT_NAMES = ("城市建设科", "建筑业管理科", "路灯管理所", "市政工程处", "房产管理中心",
              "物业管理科", "燃气热力科", "村镇建设科", "质量安全监督站", "人防工程管理科",
              "园林绿化所", "行政审批科")
PLACES = ("纺织东路", "恒天花园", "淮海西路", "云龙湖", "金山桥", "铜山新区", "三环北路",
          "汉源大道", "彭城广场", "和平路")
PROBLEMS = ("上班时间离岗，未履行外出报批手续，窗口无人值守",
            "工地围挡破损，裸土未覆盖，扬尘治理措施不到位",
            "窗口人员脱岗，办事群众排队等候超过半小时",
            "施工现场未设安全警示标志，临边防护缺失",
            "道路开挖后未按规定恢复路面，影响车辆通行",
            "值班记录缺失，台账不全，交接班制度未落实",
            "路灯长时间不亮，报修后未在规定时限内修复",
            "物业服务中心未公示收费标准，群众反映强烈")
CASE_MIX = {"open": 10, "notified": 20, "rectifying": 25, "submitted": 10, "verified": 10,
            "closed": 20, "reopened": 5}
AWAITING_UNIT = ("notified", "rectifying", "reopened")


def _ids(rng, n):
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


def _in_month(rng, zone) -> datetime:
    """A time in office hours on a day of the month, in the bureau's zone."""
    year, month = (int(part) for part in MONTH.split("-"))
    return datetime(year, month, rng.randrange(1, 31), rng.randrange(8, 18),
                    rng.randrange(60), tzinfo=zone)


# --- seeding ----------------------------------------------------------------------------


def _people():
    """An inspector and a reviewer, through the app's service (real password hashes)."""
    from server.registry.services import create_user

    inspector = create_user("inspector1", "inspector", "bench-password", name="检查员")
    reviewer = create_user("reviewer1", "reviewer", "bench-password", name="审核员")
    db.session.flush()
    return inspector.id, reviewer.id


def _registry(conn, rng):
    """Units and sites up to N_UNITS and N_SITES (one of each exists); site id -> unit id."""
    tables = db.metadata.tables
    conn.execute(tables["units"].insert(), [
        {"id": i, "code": f"U{n:02}", "name": name, "leader_name": f"包挂领导{n}"}
        for n, (i, name) in enumerate(zip(_ids(rng, N_UNITS - 1), UNIT_NAMES[1:],
                                          strict=True), 2)])
    units = conn.execute(sa.text("SELECT id FROM units ORDER BY code")).scalars().all()
    conn.execute(tables["sites"].insert(), [
        {"id": i, "code": f"S{n:03}", "name": f"{rng.choice(PLACES)}{n}号点位",
         "kind": rng.choice(("office", "construction_site", "road", "village")),
         "unit_id": units[n % len(units)], "lat": 34.2 + rng.random() / 10,
         "lon": 117.1 + rng.random() / 10, "radius_m": 300}
        for n, i in enumerate(_ids(rng, N_SITES - 1), 2)])
    return dict(conn.execute(sa.text("SELECT id, unit_id FROM sites")).all())


def _checks(conn, rng, site_units, inspector) -> list[dict]:
    zone = ZoneInfo(ZONE)
    rows = []
    for i in _ids(rng, N_CHECKS):
        start = _in_month(rng, zone)
        rows.append({"id": i, "site_id": rng.choice(list(site_units)), "started_at": start,
                     "mode": rng.choice(("covert", "covert", "open")), "notes": "",
                     "ended_at": start + timedelta(hours=1), "received_at": start,
                     "created_by": inspector, "created_at": start, "updated_at": start})
    conn.execute(db.metadata.tables["checks"].insert(), rows)
    return rows


def _findings(conn, rng, n, checks, site_units, inspector, reviewer) -> list[dict]:
    categories = conn.execute(sa.text("SELECT id FROM categories")).scalars().all()
    rows = []
    for i in _ids(rng, n):
        check = rng.choice(checks)
        at = check["started_at"] + timedelta(minutes=rng.randrange(5, 55))
        rows.append({"id": i, "check_id": check["id"], "category_id": rng.choice(categories),
                     "severity": "major" if rng.random() < 0.08 else "general",
                     "description": rng.choice(PROBLEMS), "unit_id": site_units[check["site_id"]],
                     "state": "confirmed", "created_by": inspector, "created_at": at,
                     "updated_at": at, "decided_by": reviewer,
                     "decided_at": at + timedelta(days=1), "_check": check})
    conn.execute(db.metadata.tables["findings"].insert(),
                 [{k: v for k, v in row.items() if k != "_check"} for row in rows])
    return rows


def _cases(conn, rng, findings, today: date) -> int:
    """A case per finding; overdue flagged on most of the late ones awaiting the unit (as
    the daily sweep would have). Returns how many are flagged."""
    rows = []
    for finding in findings:
        status = rng.choices(list(CASE_MIX), list(CASE_MIX.values()))[0]
        opened = finding["decided_at"]
        deadline = (opened + timedelta(days=rng.choice((7, 15, 30)))).date()
        late = deadline < today and status in AWAITING_UNIT
        rows.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4),
                     "finding_id": finding["id"], "unit_id": finding["unit_id"],
                     "leader_name": "包挂领导", "deadline": deadline, "status": status,
                     "overdue": late and rng.random() < 0.7, "created_at": opened,
                     "updated_at": opened, "notified_at": None if status == "open" else opened,
                     "closed_at": opened + timedelta(days=12) if status == "closed" else None})
    conn.execute(db.metadata.tables["cases"].insert(), rows)
    published = [r["finding_id"] for r in rows if r["status"] != "open"]
    findings_table = db.metadata.tables["findings"]
    conn.execute(sa.update(findings_table).where(findings_table.c.id.in_(published))
                 .values(published_at=sa.func.now()))
    return sum(r["overdue"] for r in rows)


def _photo_row(rng, i, finding, accepted, reviewer) -> dict:
    at = finding["_check"]["started_at"] + timedelta(seconds=rng.randrange(3600))
    files = {name: {"key": f"derivatives/{i}/{name}", "size": 0}
             for name in ("thumb.jpg", "preview.jpg")}
    return {"id": i, "check_id": finding["check_id"], "finding_id": finding["id"],
            "kind": "photo", "sha256": f"{rng.getrandbits(256):064x}",
            "size": rng.randrange(2_000_000, 6_000_000),
            "filename": f"IMG_{rng.randrange(10_000):04}.jpg",
            "captured_at": at, "created_by": finding["created_by"], "state": "ready",
            "review_state": "accepted" if accepted else "pending",
            "reviewed_by": reviewer if accepted else None,
            "reviewed_at": at + timedelta(days=1) if accepted else None,
            "media": {"width": 4000, "height": 3000, "captured_at": at.isoformat()},
            "geofence": "inside", "distance_m": rng.uniform(0, 200), "derivatives": files,
            "flags": [], "storage_key": f"originals/{i}", "uploaded_at": at,
            "phash": f"{rng.getrandbits(64):016x}", "created_at": at, "updated_at": at}


def _evidence(conn, rng, findings, reviewer) -> list[str]:
    """PHOTOS_PER_FINDING photos of each finding, the first accepted; returns the keys of
    the accepted ones' previews."""
    rows = []
    for finding in findings:
        for n, i in enumerate(_ids(rng, PHOTOS_PER_FINDING)):
            rows.append(_photo_row(rng, i, finding, n == 0, reviewer))
    for start in range(0, len(rows), 2000):
        conn.execute(db.metadata.tables["evidence"].insert(), rows[start:start + 2000])
    return [r["derivatives"]["preview.jpg"]["key"] for r in rows
            if r["review_state"] == "accepted"]


def _scenes(rng, n=8) -> list[Image.Image]:
    """A few photo-like scenes: soft colour fields under sensor-like noise."""
    noise = Image.effect_noise(PREVIEW, 24).convert("RGB")
    return [Image.blend(Image.frombytes("RGB", (16, 12), rng.randbytes(16 * 12 * 3))
                        .resize(PREVIEW, Image.Resampling.BICUBIC), noise, 0.18)
            for _ in range(n)]


def _preview(scenes, n: int) -> bytes:
    """Scene ``n`` (of a few) with a block of its own drawn on it, so no two are alike."""
    image = scenes[n % len(scenes)].copy()
    x, y = (n * 37) % (PREVIEW[0] - 160), (n * 53) % (PREVIEW[1] - 120)
    ImageDraw.Draw(image).rectangle((x, y, x + 160, y + 120),
                                    fill=((n * 67) % 256, (n * 31) % 256, (n * 13) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _store_previews(store, rng, keys) -> int:
    """Each accepted photo's preview.jpg, saved through the app's storage; Pillow's
    encoder and the writes let go of the GIL, so threads share the work. Returns bytes."""
    scenes = _scenes(rng)

    def save(numbered):
        n, key = numbered
        return store.save(key, io.BytesIO(_preview(scenes, n)))

    with ThreadPoolExecutor() as pool:
        return sum(pool.map(save, enumerate(keys)))


def seed(app, n_findings: int, say) -> dict:
    """The month in bulk; returns what was made, and the seconds it took."""
    from server.evidence.storage import storage
    from server.registry.services import seed_categories
    from server.zone import bureau_today

    rng, start = random.Random(11), time.perf_counter()
    with app.app_context():
        migrate_and_add_a_site()
        seed_categories()
        inspector, reviewer = _people()
        db.session.commit()
        say("migrated; inserting the month")
        with db.engine.begin() as conn:  # Core inserts: no unit of work, no feed hooks
            site_units = _registry(conn, rng)
            checks = _checks(conn, rng, site_units, inspector)
            findings = _findings(conn, rng, n_findings, checks, site_units, inspector,
                                 reviewer)
            overdue = _cases(conn, rng, findings, bureau_today())
            keys = _evidence(conn, rng, findings, reviewer)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            counts = {name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar()
                      for name in ("units", "sites", "checks", "findings", "cases", "evidence")}
            counts["postgres"] = conn.execute(sa.text("SHOW server_version")).scalar()
        database = time.perf_counter() - start
        say(f"database seeded in {database:.1f} s; storing {len(keys)} previews")
        preview_bytes = _store_previews(storage(), rng, keys)
        db.session.remove()
    return counts | {"overdue_flagged": overdue, "accepted": len(keys),
                     "preview_bytes": preview_bytes, "database_s": database,
                     "seconds": time.perf_counter() - start}


# --- measuring --------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def pdf_pages(path: Path) -> str:
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                              check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return f"? (pdfinfo: {error})"
    return next((line.split()[1] for line in info.splitlines() if line.startswith("Pages:")),
                "?")


def renders(app, content, photos, issued, folder: Path) -> dict:
    """The three writers, each a function of no argument that writes its file."""
    from server.bulletins.render_docx import write_docx
    from server.bulletins.render_pdf import write_pdf
    from server.bulletins.render_xlsx import write_xlsx

    issuer, font = app.config["BULLETIN_ISSUER"], app.config["BULLETIN_FANGSONG_FONT"]
    paths = {kind: folder / f"bulletin-{MONTH}.{kind}" for kind in ("pdf", "docx", "xlsx")}
    return {"pdf": (paths["pdf"], lambda: write_pdf(content, paths["pdf"], issuer, photos,
                                                     issued, font)),
            "docx": (paths["docx"], lambda: write_docx(content, paths["docx"], issuer, photos,
                                                        issued)),
            "xlsx": (paths["xlsx"], lambda: write_xlsx(content, paths["xlsx"]))}


def measure(app, folder: Path, say) -> tuple[dict, dict, dict]:
    """Compile, load the photos and write the three files, each timed; returns (figures,
    the writers, the bulletin's content) for the optional passes after."""
    from server.bulletins import services
    from server.bulletins.render import bulletin_photos

    figures = {"rss": {"seeded": peak_rss_mib()}}
    say("compiling")
    figures["compile_s"], bulletin = timed(lambda: services.compile_draft(MONTH))
    start = time.perf_counter()
    db.session.commit()
    figures["compile_s"] += time.perf_counter() - start
    figures["rss"]["compiled"] = peak_rss_mib()
    content = bulletin.content
    figures["headline"] = content["figures"]["headline"]
    say("loading the photos")
    figures["photos_s"], photos = timed(lambda: bulletin_photos(content))
    figures["photos"], figures["photo_bytes"] = len(photos), sum(map(len, photos.values()))
    figures["rss"]["photos"] = peak_rss_mib()
    issued = (bulletin.published_at or bulletin.updated_at).date()
    writers = renders(app, content, photos, issued, folder)
    for kind, (path, write) in writers.items():
        say(f"writing the {kind.upper()}")
        figures[kind], _ = timed(write)
        figures[f"{kind}_bytes"] = path.stat().st_size
        figures["rss"][kind] = peak_rss_mib()
    figures["pages"] = pdf_pages(writers["pdf"][0])
    say("running the render job's render()")
    figures["job"] = job(bulletin, folder / "job")
    figures["rss"]["job"] = peak_rss_mib()
    return figures, writers, content


def job(bulletin, folder: Path) -> dict:
    """render() as the job runs it (photos on threads, the DOCX in a second process while
    the PDF is laid out): its wall time, and when it had the photos (its progress 25)."""
    from server.bulletins.render import render

    marks = {}
    start = time.perf_counter()
    render(bulletin, folder, lambda percent: marks.setdefault(percent, time.perf_counter()))
    end = time.perf_counter()
    return {"total": end - start, "photos": marks[25] - start, "renders": end - marks[25],
            "pdf": marks[70] - marks[25], "docx_wait": end - marks[75]}


def traced_peaks(writers) -> dict:
    """Each writer's peak of Python allocations (tracemalloc) above what was held before."""
    peaks = {}
    for kind, (_path, write) in writers.items():
        tracemalloc.start()
        try:
            write()
            peaks[kind] = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    return peaks


def profile(steps: dict, top=20):
    """A cProfile of each step (name -> a function of no argument): its calls by cumulative
    time (where the time goes), then by their own time (what costs)."""
    for name, step in steps.items():
        profiler = cProfile.Profile()
        profiler.runcall(step)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        print(f"\n--- cProfile of {name} ---\n{out.getvalue()}")


# --- report -----------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def report(seeded: dict, figures: dict):
    h = figures["headline"]
    print(f"PostgreSQL {seeded['postgres']}: month {MONTH} ({ZONE}), {seeded['units']} units, "
          f"{seeded['sites']} sites, {seeded['checks']} checks, {seeded['findings']:,} confirmed "
          f"findings, {seeded['cases']:,} cases ({seeded['overdue_flagged']} flagged overdue), "
          f"{seeded['evidence']:,} photos ({seeded['accepted']:,} accepted, each with a "
          f"{PREVIEW[0]}x{PREVIEW[1]} preview.jpg, {_mb(seeded['preview_bytes'])} in all)")
    print(f"seeded in {seeded['seconds']:.1f} s (database {seeded['database_s']:.1f} s, "
          f"previews {seeded['seconds'] - seeded['database_s']:.1f} s)")
    rss, job_s = figures["rss"], figures["job"]
    renders_s = job_s["renders"]
    for label, text in (
        ("compile_draft, committed", f"{figures['compile_s']:6.2f} s   ({h['findings']:,} "
         f"findings, {h['cases_overdue']} overdue, rectification rate "
         f"{h['rectification_rate']:g}%)"),
        ("photos (bulletin_photos)", f"{figures['photos_s']:6.2f} s   ({figures['photos']:,} "
         f"previews read and re-encoded on threads, {_mb(figures['photo_bytes'])})"),
        ("PDF  alone (WeasyPrint)", f"{figures['pdf']:6.2f} s   {_mb(figures['pdf_bytes'])}, "
         f"{figures['pages']} pages"),
        ("DOCX alone (python-docx)", f"{figures['docx']:6.2f} s   "
         f"{_mb(figures['docx_bytes'])}"),
        ("XLSX alone (openpyxl)", f"{figures['xlsx']:6.2f} s   "
         f"{_mb(figures['xlsx_bytes'])}"),
        ("render job (render())", f"{job_s['total']:6.2f} s   (photos {job_s['photos']:.2f} s, "
         f"then the three files {renders_s:.2f} s: the PDF {job_s['pdf']:.2f} s while a "
         f"second process wrote the DOCX, waited for {job_s['docx_wait']:.2f} s after)"),
        ("PDF + DOCX + XLSX in the job", f"{renders_s:6.2f} s   target under {TARGET:g} s for "
         f"all three on this machine; ratio {renders_s / TARGET:.2f}  "
         f"{'PASS' if renders_s < TARGET else 'FAIL'}"),
        ("compile and render job", f"{figures['compile_s'] + job_s['total']:6.2f} s   (from "
         "the month's data to its three files)"),
        ("peak RSS (getrusage)", f"{rss['job']:6.0f} MiB   (after seeding {rss['seeded']:.0f},"
         f" compile {rss['compiled']:.0f}, photos {rss['photos']:.0f}, PDF {rss['pdf']:.0f}, "
         f"DOCX {rss['docx']:.0f}, XLSX {rss['xlsx']:.0f}, job {rss['job']:.0f}; the job's "
         "DOCX process not counted)")):
        print(f"{label:<32}{text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--findings", type=int, default=1_000,
                        help=f"confirmed findings; {PHOTOS_PER_FINDING} photos each")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also each render's peak of Python allocations (a slow pass)")
    parser.add_argument("--profile", action="store_true",
                        help="also a cProfile of the photos' loading and the three renders")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr, and logs")
    args = parser.parse_args()
    if args.findings < 1:
        parser.error("there must be findings")
    log_levels(args.verbose)
    say = progress(args.verbose)
    with contextlib.ExitStack() as cleanup:  # the folders and the database, even on failure
        tmp = Path(tempfile.mkdtemp(prefix="bulletin-bench-"))
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        name, url = create_database(args.admin_url)
        cleanup.callback(drop_database, args.admin_url, name)
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
            "SECRET_KEY": "bench", "REDIS_URL": None, "MEDIA_ROOT": str(tmp / "media"),
            "BABEL_DEFAULT_TIMEZONE": ZONE, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024})
        say(f"scratch database {name}, media in {tmp}: migrating and seeding")
        seeded = seed(app, args.findings, say)
        (tmp / "out").mkdir()
        with app.app_context():
            figures, writers, content = measure(app, tmp / "out", say)
            report(seeded, figures)
            if args.tracemalloc:
                peaks = traced_peaks(writers)
                print(f"{'tracemalloc peaks':<32}" + ", ".join(
                    f"{kind.upper()} {mib:.0f} MiB" for kind, mib in peaks.items())
                    + "   (Python allocations only, a second pass)")
            if args.profile:
                from server.bulletins.render import bulletin_photos

                profile({"bulletin_photos": lambda: bulletin_photos(content)}
                        | {f"write_{kind}": write for kind, (_path, write) in writers.items()})
            db.session.remove()


if __name__ == "__main__":
    main()
