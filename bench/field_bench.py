"""Field app benchmark: the phones' web app (/field/) in Debian's chromium, driven by
Playwright, against Mingcha served as the README deploys it.

    .venv/bin/python bench/field_bench.py [--verbose]
    sizes: MINGCHA_FIELD_BENCH_PHOTOS (default 200), MINGCHA_FIELD_BENCH_MB (default 3)

Server: gunicorn (gthread, 4 workers x 8 threads), production settings, a scratch
PostgreSQL database with the demo bureau, REDIS_URL on an empty database of the local
Redis and no worker. So uploads are checked (sha256) and stored, their media jobs wait
in Redis, the evidence stays ``processing`` and the phone keeps its files: processing
costs neither client anything. Supervisor jiandu01 signs in to the app, starts an open
check, and the bench measures:

1. JS and CSS of the first visit: gzip (level 6) sizes of the script and stylesheet
   responses under /field/ the page loads (the hashing worker loads only at the first
   photo), against 150 KB (1 KB = 1000 bytes).
2. Opening the app offline (service worker installed, signed in, check started): from
   about:blank to /field/#/check/<id> until its photo button shows; 10 times.
3. Photos (random-noise JPEGs with EXIF time and GPS, made in a temporary folder) chosen
   from the gallery offline, hashed and queued; then online: seconds until every file is
   uploaded (the app's push, pull and uploads). The reference client (sync.client, 5 MiB
   chunks like the app) sends the same files for jiandu02's new check: push + uploads.
   MB/s of both and the ratio; the server's rows checked: each photo stored whole (upload
   complete) under the file's sha256.
4. During the app's sync, every 250 ms: the page's JS heap (CDP Performance.getMetrics),
   the RSS of its renderer process and the PSS of all of chromium (/proc). The page must
   not hold the files: its renderer should stay far below the photos' bytes.
"""

import argparse
import contextlib
import gzip
import hashlib
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from scratch_db import create_database, drop_database  # noqa: E402
from soak import GUNICORN, _tree  # noqa: E402  (the README's command line, a process walk)
from verbosity import log_levels, progress  # noqa: E402

from server.demo.data import PASSWORD  # noqa: E402
from tests.media.photo_samples import exif_for  # noqa: E402

MB, KB = 1_000_000, 1000
JS_TARGET_KB, OPENS, CHUNK = 150, 10, 5 * 1024 * 1024
CHROMIUM, TAKE_PHOTO = "/usr/bin/chromium", "[data-testid=take-photo]"
HERE = {"latitude": 34.2513, "longitude": 117.2264, "accuracy": 10}  # the bureau's building


# --- the photos -------------------------------------------------------------------------------

def make_photos(folder: Path, n: int, megabytes: float) -> dict[Path, str]:
    """``n`` JPEGs of about ``megabytes`` MB each (noise, 4:3, EXIF time and GPS at HERE);
    each path with its sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    per_pixel = len(_jpeg(400, 300)) / (400 * 300)
    width = int((megabytes * MB / per_pixel * 4 / 3) ** 0.5)
    photos = {}
    for i in range(n):
        path = folder / f"IMG_{i + 1:04}.jpg"
        data = _jpeg(width, width * 3 // 4)
        path.write_bytes(data)
        photos[path] = hashlib.sha256(data).hexdigest()
    return photos


def _jpeg(width: int, height: int) -> bytes:
    def dms(degrees):
        minutes = (degrees % 1) * 60
        return IFDRational(int(degrees)), IFDRational(int(minutes)), \
            IFDRational(round(minutes % 1 * 60_000), 1000)

    exif = exif_for(make="HUAWEI", model="P60", times={
        "DateTimeOriginal": datetime.now().strftime("%Y:%m:%d %H:%M:%S")}, gps={
        "GPSLatitudeRef": "N", "GPSLatitude": dms(HERE["latitude"]),
        "GPSLongitudeRef": "E", "GPSLongitude": dms(HERE["longitude"])})
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


# --- the app, in chromium -----------------------------------------------------------------------

def _memory(pid: int) -> tuple[int, int, str]:
    """(RSS, PSS in bytes, command line) of a process; (0, 0, "") once it is gone."""
    with contextlib.suppress(OSError):
        rollup = dict(line.split(":", 1) for line in
                      Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        return (int(rollup["Rss"].split()[0]) * 1024, int(rollup["Pss"].split()[0]) * 1024, cmd)
    return 0, 0, ""


class Sampler:
    """Peaks, sampled at most every 250 ms by ``tick``: the page's JS heap, the RSS of the
    largest renderer process (the page's; chromium's own UI renderer left out) and the PSS
    of all of chromium's processes. ``first`` keeps the first sample."""

    def __init__(self, context, page):
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Performance.enable")
        self.last, self.first, self.peak = 0.0, None, {}

    def tick(self):
        if time.monotonic() - self.last < 0.25:
            return
        self.last = time.monotonic()
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        chromium = [m for m in map(_memory, _tree(os.getpid())[1:])
                    if "chromium" in m[2].split("\0")[0]]
        now = {"heap": next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"),
               "renderer": max(rss for rss, _pss, cmd in chromium if "--type=renderer" in cmd
                               and "--top-chrome-webui" not in cmd),
               "chromium": sum(pss for _rss, pss, _cmd in chromium)}
        self.first = self.first or now
        self.peak = {k: max(v, self.peak.get(k, 0)) for k, v in now.items()}


def _until(page, script: str, arg, seconds: float, what: str, each=None) -> dict:
    """Evaluate ``script`` every 50 ms (``each`` is given every answer) until it answers
    {done: true}; fail on {failed: true} or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        state = page.evaluate(script, arg)
        if each:
            each(state)
        if state.get("failed"):
            raise RuntimeError(f"{what}: {state}")
        if state["done"]:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {seconds:.0f} s: {state}")
        page.wait_for_timeout(50)


SYNCED = """() => ({done: window.mingcha.store.outbox.length === 0 && !window.mingcha.sync.running
  && Boolean(window.mingcha.store.meta.last_sync)})"""
QUEUED = """([id, n]) => { const s = window.mingcha.store;
  const hashed = [...s.files.values()].filter((f) => f.check_id === id && f.sha256).length;
  const queued = s.outbox.filter((m) => m.type === "evidence" && m.data.check_id === id).length;
  return {hashed, queued, done: hashed === n && queued === n}; }"""
UPLOADED = """(id) => { const f = window.mingcha;
  const rows = [...f.store.files.values()].filter((r) => r.check_id === id);
  const refused = rows.filter((r) => r.refused).map((r) => r.error);
  return {left: rows.filter((r) => !r.uploaded).length, refused, failed: refused.length > 0,
    issues: f.store.issues.length, error: f.sync.error && String(f.sync.error.message),
    phase: f.sync.phase, done: rows.every((r) => r.uploaded)}; }"""


def first_load(page, base: str) -> dict[str, tuple[int, int]]:
    """The page's scripts and stylesheets under /field/ on a first visit: url -> (bytes,
    gzip bytes)."""
    responses = []
    page.on("response", lambda r: responses.append(r) if r.request.resource_type in (
        "script", "stylesheet") and r.url.startswith(base + "/field/") else None)
    page.goto(base + "/field/")
    page.wait_for_selector("input[name=username]")
    page.wait_for_load_state("networkidle")
    return {r.url[len(base):]: (len(r.body()), len(gzip.compress(r.body(), 6)))
            for r in responses}


def start_check(page, base: str, username: str, password: str) -> str:
    """Sign in, start an open check at the first site; its id once pushed and the service
    worker is ready."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.click("button.site")
    page.select_option("main.start select", "")  # no plan: a free, open check
    page.click("label.choice.open")
    page.click(".actions button")
    page.wait_for_url("**/field/#/check/*")
    page.wait_for_selector(TAKE_PHOTO)
    _until(page, SYNCED, None, 60, "the check pushed")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    return page.url.rsplit("/", 1)[1]


def open_offline(page, base: str, check_id: str, times: int) -> list[float]:
    """Milliseconds from asking for the check's URL to its photo button, offline."""
    spent = []
    for _ in range(times):
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto(f"{base}/field/#/check/{check_id}")
        page.wait_for_selector(TAKE_PHOTO, state="visible")
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def measure_app(browser, base: str, username: str, password: str, photos: dict[Path, str],
                opens: int = OPENS, say=print) -> dict:
    """Every measure of the app (1, 2, 3 and 4 of the docstring), in one browser context."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  geolocation=HERE, permissions=["geolocation"])
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        out = {"first_load": first_load(page, base)}
        out["check_id"] = check_id = start_check(page, base, username, password)
        say(f"check {check_id} started; opening it offline {opens} times")
        context.set_offline(True)
        out["opens_ms"] = open_offline(page, base, check_id, opens)
        sampler = Sampler(context, page)
        sampler.tick()
        say(f"choosing {len(photos)} photos from the gallery, offline")
        start = time.perf_counter()
        page.set_input_files("[data-testid=gallery] input", [str(p) for p in photos])
        _until(page, QUEUED, [check_id, len(photos)], 1800, "hashing", lambda _s: sampler.tick())
        out["capture_s"], out["capture_peak"] = time.perf_counter() - start, sampler.peak
        sampler.peak, phases = {}, {}

        def each(state):
            sampler.tick()
            phases.setdefault(state["phase"], time.perf_counter())

        say("online: syncing")
        start = time.perf_counter()
        context.set_offline(False)
        _until(page, UPLOADED, check_id, 3600, "uploads", each)
        out["sync_s"] = time.perf_counter() - start
        out["upload_s"] = time.perf_counter() - phases.get("upload", start)
        out["before"], out["sync_peak"] = sampler.first, sampler.peak
        return out
    finally:
        context.close()


# --- the reference client, and the server's rows -------------------------------------------------

def reference_sync(base: str, username: str, password: str, photos: dict[Path, str],
                   folder: Path) -> dict:
    """The same files by sync.client for a new open check: seconds of push + uploads."""
    from sync.client import Client

    folder.mkdir(parents=True, exist_ok=True)
    with Client(base, folder / "phone.db", files_dir=folder / "files", upload_chunk=CHUNK,
                timeout=120) as client:
        client.login(username, password, "reference client")
        client.pull()
        site = client.records("site")[0]
        stamp = datetime.now(UTC).isoformat()
        check_id = client.upsert("check", data={"site_id": site.entity_id, "mode": "open",
                                                "started_at": stamp})
        for path in photos:
            client.add_evidence(check_id, "photo", path=path, filename=path.name,
                                captured_at=stamp, filetype="image/jpeg")
        start = time.perf_counter()
        pushed = client.push()
        sent = client.upload()
        seconds = time.perf_counter() - start
    if pushed["applied"] != len(photos) + 1 or sent["uploaded"] != len(photos):
        raise RuntimeError(f"reference client: pushed {dict(pushed)}, files {dict(sent)}")
    return {"check_id": check_id, "seconds": seconds}


def stored(check_id: str) -> dict[str, str]:
    """sha256 -> storage key of each evidence of the check whose upload completed (inside
    an app context on the server's database)."""
    import sqlalchemy as sa

    from server.extensions import db
    from server.models import Evidence

    db.session.commit()  # a fresh transaction: see what the server committed
    rows = db.session.execute(sa.select(Evidence.sha256, Evidence.storage_key).where(
        Evidence.check_id == uuid.UUID(check_id), Evidence.uploaded_at.is_not(None))).all()
    return dict(rows)


# --- the bench ---------------------------------------------------------------------------------

def mb(value: float) -> str:
    return f"{value / MB:.0f} MB"


def report(app: dict, ref: dict, photos: dict, matched: tuple[int, int], server: str):
    n, total = len(photos), sum(path.stat().st_size for path in photos)
    js, (opens, peak, capture) = app["first_load"], (app[k] for k in ("opens_ms", "sync_peak",
                                                                      "capture_peak"))
    gz, ours, theirs = (sum(z for _r, z in js.values()) / KB, total / MB / app["sync_s"],
                        total / MB / ref["seconds"])
    for label, text in [
        ("server", server),
        ("1. JS+CSS of the first visit", f"{gz:.1f} KB gzipped ("
         + ", ".join(f"{Path(u).name} {z / KB:.1f}" for u, (_r, z) in js.items())
         + f"; {sum(r for r, _z in js.values()) / KB:.1f} KB raw)   target <= {JS_TARGET_KB}"
         f" KB gz   ratio {gz / JS_TARGET_KB:.2f}  {'ok' if gz <= JS_TARGET_KB else 'OVER'}"),
        ("2. offline open, check screen", f"median {statistics.median(opens):.0f} ms, max "
         f"{max(opens):.0f} ms ({len(opens)} opens)"),
        (f"3. {n} photos, {mb(total)}", f"chosen offline: hashed and queued in "
         f"{app['capture_s']:.1f} s"),
        ("   app, online to all uploaded", f"{app['sync_s']:.1f} s = {ours:.1f} MB/s (push "
         f"and pull {app['sync_s'] - app['upload_s']:.1f} s, uploads {app['upload_s']:.1f} s)"),
        ("   reference push + uploads", f"{ref['seconds']:.1f} s = {theirs:.1f} MB/s "
         "(sync.client, one file at a time)"),
        ("   ratio app/reference", f"{ours / theirs:.2f}"),
        ("   on the server", f"{matched[0]}/{n} of the app's and {matched[1]}/{n} of the "
         "reference's photos stored whole under their sha256"),
        ("4. peaks during the app's sync", f"JS heap {mb(peak['heap'])}; renderer RSS "
         f"{mb(peak['renderer'])} ({mb(app['before']['renderer'])} before the photos) = "
         f"{peak['renderer'] / total:.2f}x the {mb(total)} of photos; all chromium "
         f"{mb(peak['chromium'])} PSS"),
        ("   while capturing offline", f"JS heap {mb(capture['heap'])}; renderer RSS "
         f"{mb(capture['renderer'])}; all chromium {mb(capture['chromium'])} PSS")]:
        print(f"{label:<32}{text}")


def _serve(tmp: Path, db_url: str, redis_url: str, say) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"MINGCHA_ENV": "production", "SECRET_KEY": "field-bench",
                        "DATABASE_URL": db_url, "REDIS_URL": redis_url,
                        "MEDIA_ROOT": str(tmp / "media"), "UPLOAD_DIR": str(tmp / "uploads"),
                        "MINGCHA_INSTANCE": str(tmp), "LOG_LEVEL": "WARNING"}
    with open(tmp / "gunicorn.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", *GUNICORN, "--bind",
                                   f"127.0.0.1:{port}", "server:create_app()"], cwd=ROOT,
                                  env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                say(f"gunicorn on {base}")
                return server, base
        if server.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start:\n" + (tmp / "gunicorn.log").read_text()[-3000:])


def _bureau(db_url: str, tmp: Path):
    """The app on the scratch database, migrated, with the demo bureau."""
    from flask_migrate import upgrade

    from server import create_app
    from server.demo.services import load_demo
    from server.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url.replace(
        "postgresql://", "postgresql+psycopg://", 1), "SECRET_KEY": "field-bench",
        "REDIS_URL": None, "MEDIA_ROOT": str(tmp / "media")})
    with app.app_context():
        upgrade()
        load_demo(PASSWORD)
        db.session.commit()
    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="an empty Redis database: the media jobs wait there, flushed after")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    args = parser.parse_args()
    log_levels(args.verbose)
    say = progress(args.verbose)
    n = int(os.environ.get("MINGCHA_FIELD_BENCH_PHOTOS", "200"))
    megabytes = float(os.environ.get("MINGCHA_FIELD_BENCH_MB", "3"))
    jobs = redis.Redis.from_url(args.redis_url)
    if jobs.dbsize():
        sys.exit(f"{args.redis_url} is not empty; the bench flushes it, so give it an empty one")
    name, db_url = create_database(args.admin_url)
    tmp, server = Path(tempfile.mkdtemp(prefix="field-bench-")), None
    try:
        say(f"scratch database {name}: migrating, loading the demo bureau")
        app = _bureau(db_url, tmp)
        say(f"making {n} photos of {megabytes} MB")
        photos = make_photos(tmp / "photos", n, megabytes)
        server, base = _serve(tmp, db_url, args.redis_url, say)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox"])
            figures = measure_app(browser, base, "jiandu01", PASSWORD, photos, say=say)
            browser.close()
        say("the reference client")
        ref = reference_sync(base, "jiandu02", PASSWORD, photos, tmp / "reference")
        with app.app_context():
            matched = tuple(len(set(photos.values()) & set(stored(check)))
                            for check in (figures["check_id"], ref["check_id"]))
        report(figures, ref, photos, matched, "gunicorn gthread 4x8 as in the README, "
               "production settings, PostgreSQL; Redis without a worker: evidence stays "
               "processing, the phone keeps its files")
        if matched != (n, n):
            sys.exit("not every photo arrived whole")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        jobs.flushdb()
        drop_database(args.admin_url, name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
