"""Fault soak (issue 9, point 16): phones on a bad network while the servers die under them.

    .venv/bin/python bench/soak.py [--phones 50] [--minutes 8] [--seed 1]
        [--drop-requests 0.2] [--drop-responses 0.2] [--duplicate 0.05] [--cut 0.05]
        [--checks 4] [--photos 1-3] [--web-kills 3] [--worker-kills 2]
        [--redis-seconds 30] [--sweep-seconds 60] [--keep] [--verbose]

One command (``make soak``). On a scratch PostgreSQL database (migrated with
``manage.py init-db``, the demo bureau loaded with ``manage.py demo``) it serves Mingcha
with gunicorn exactly as the README deploys it (gthread, 4 workers x 8 threads) on a
loopback port, production settings (``MINGCHA_ENV=production``, a ``SECRET_KEY``, media
and uploads in a temporary folder), runs ``manage.py worker`` and a redis-server of its
own on another loopback port (the machine's shared Redis is never touched). Then 50
simulated phones (sync/simulator.py; the demo's inspectors and supervisors, several
phones to an account) record checks, findings and photos (JPEGs made here with EXIF time
and GPS near the site, 50-300 KB) through ``FaultyTransport``: a fifth of requests lost
before they arrive, a fifth of answers lost after the server acted, some sent twice,
some cut off in the middle of their body. Meanwhile the gunicorn master and its workers
are killed with SIGKILL three times and started again, the worker (and its work horse)
twice, and Redis is stopped for 30 s (it keeps nothing: the jobs it held are gone).

Then the phones sync until their outboxes are empty and their files uploaded, and wait
(bounded) until the server reports every photo ``ready``. Every account pulls everything
afresh and downloads every original; the soak also reads the database and the media
folder. It prints the figures and every difference, and exits 1 if anything is lost,
duplicated, not ready or otherwise not as the phones hold it.

``--minutes`` bounds the run: the phones work in the field for 40 % of it, the kills
fall in that time, and each phone waits for its photos at most until the end of it.
``SWEEP_SECONDS`` is lowered (``--sweep-seconds``, default 60 s instead of 300 s) so the
workers' sweep, which re-queues the media jobs Redis lost, runs within the time.
"""

import argparse
import contextlib
import hashlib
import io
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import redis
from PIL import ExifTags, Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import create_database, drop_database  # noqa: E402  (bench/ is on the path)
from verbosity import progress  # noqa: E402

from server.demo import data as demo  # noqa: E402
from sync import simulator  # noqa: E402
from sync.backoff import Backoff  # noqa: E402
from sync.report import format_report  # noqa: E402

BIN = Path(sys.executable).parent
GUNICORN = ["--worker-class", "gthread", "--workers", "4", "--threads", "8",
            "--keep-alive", "5", "--preload"]  # README
KB = 1024


# --- the camera ---------------------------------------------------------------------------

def camera(rng: random.Random, site: dict, captured_at: datetime) -> bytes:
    """A JPEG of 50-300 KB as a phone takes it at ``site``: coloured shapes under sensor
    noise, with EXIF capture time (and offset), device, and GPS a few metres from the
    site."""
    width, height = rng.choice([(800, 600), (1024, 768), (1280, 960)])
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(15):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randrange(width // 8, width // 2),
               y + rng.randrange(height // 8, height // 2))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    sigma = rng.uniform(14, 64) * 800 / width  # bigger frames, less noise: 50-300 KB
    noise = Image.merge("RGB", [Image.effect_noise((width, height), sigma) for _ in "rgb"])
    image = Image.blend(image, noise, 0.35)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=_exif(rng, site, captured_at))
    return out.getvalue()


def _exif(rng: random.Random, site: dict, when: datetime) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = rng.choice(
        [("HUAWEI", "P60"), ("Xiaomi", "22081212C"), ("OPPO", "PHW110")])
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    exif[ExifTags.Base.DateTime] = stamp
    inner = exif.get_ifd(ExifTags.IFD.Exif)
    inner[ExifTags.Base.DateTimeOriginal] = stamp
    offset = when.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        inner[ExifTags.Base.OffsetTimeOriginal] = \
            f"{sign}{abs(minutes) // 60:02}:{abs(minutes) % 60:02}"
    if site.get("lat") is not None and site.get("lon") is not None:
        metres = rng.uniform(0, 0.6 * float(site.get("radius_m") or 100))
        lat = site["lat"] + metres / 111_320 * rng.choice([-1, 1])
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if site["lon"] >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(abs(site["lon"]))
        gps[ExifTags.GPS.GPSHPositioningError] = IFDRational(rng.randint(3, 15), 1)
    return exif


def _dms(degrees: float) -> tuple:
    whole = int(degrees)
    minutes = int((degrees - whole) * 60)
    seconds = round(((degrees - whole) * 60 - minutes) * 60 * 1000)
    return IFDRational(whole, 1), IFDRational(minutes, 1), IFDRational(seconds, 1000)


# --- the servers ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """pid and its descendants (gunicorn's master and workers; rq's worker and horse)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the process just ended
                todo.extend(int(c) for c in task.read_text().split())
    return found


class Service:
    """A server process of our own, in its own session, its output appended to a log.
    ``start`` again after a kill, as systemd's Restart=always would."""

    def __init__(self, name: str, cmd: list, log: Path, env: dict, ready=None):
        self.name, self.cmd, self.log, self.env, self.ready = name, cmd, log, env, ready
        self.proc = None
        self.starts = 0
        self.lock = threading.Lock()  # the chaos thread and the watchdog

    def start(self, timeout: float = 90):
        with open(self.log, "ab") as out:
            out.write(f"\n===== soak: starting {self.name} ({time.strftime('%X')}) =====\n"
                      .encode())
            out.flush()
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=ROOT, env=self.env, start_new_session=True)
        self.starts += 1
        if self.ready:
            deadline = time.monotonic() + timeout
            while not self.ready():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start; see {self.log}:\n"
                                       + self.log.read_text(errors="replace")[-3000:])
                time.sleep(0.2)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Signal the process and every descendant at once, then reap it."""
        if self.proc is None:
            return
        for pid in _tree(self.proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)

    def stop(self):
        if self.alive():
            self.kill(signal.SIGTERM)
        if self.alive():
            self.kill(signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.TransportError:
        return False


def _pings(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


class Chaos(threading.Thread):
    """Kills at their times (seconds from start); and, in a thread of its own, a watchdog
    that starts again, a second later, any service that exited by itself (as systemd's
    Restart=always with RestartSec=1 would), and counts it."""

    def __init__(self, services: dict, schedule: list, redis_seconds: float, say):
        super().__init__(daemon=True)
        self.services, self.schedule, self.redis_seconds = services, schedule, redis_seconds
        self.say = say
        self.started = time.monotonic()
        self.done = threading.Event()
        self.kills = Counter()
        self.unexpected = Counter()
        self.log = []  # (seconds, what)
        self.error = None
        self.redis_down = False
        self.outage = None  # the thread that starts Redis again
        self.watchdog = threading.Thread(target=self._watchdog, daemon=True)

    def _note(self, what: str):
        at = time.monotonic() - self.started
        self.log.append((at, what))
        self.say(f"{at:6.1f} s  {what}")

    def run(self):
        self.watchdog.start()
        try:
            for at, action in sorted(self.schedule):
                if self.done.wait(max(0.0, at - (time.monotonic() - self.started))):
                    return
                getattr(self, action)()
            self.done.wait()
        except Exception as error:  # reported by the main thread
            self.error = error
        finally:
            if self.outage is not None:
                self.outage.join()
            self.watchdog.join()

    def _watchdog(self):
        while not self.done.wait(0.5):
            for name, service in self.services.items():
                if name == "redis" and self.redis_down:
                    continue
                with service.lock:  # not while a kill and its restart are under way
                    if service.alive():
                        continue
                    self.unexpected[name] += 1
                    self._note(f"{name} exited by itself (status {service.proc.poll()}); "
                               "started again in 1 s")
                    time.sleep(1)
                    try:
                        service.start()
                    except RuntimeError as error:  # it keeps failing: try again later
                        self._note(f"{name} did not start: {str(error)[:200]}")

    def kill_web(self):
        service = self.services["web"]
        with service.lock:
            pids = _tree(service.proc.pid) if service.alive() else []
            service.kill()
            self.kills["web"] += 1
            self._note(f"web: SIGKILL to the gunicorn master and its workers ({len(pids)} "
                       "processes)" if pids else "web: had exited already; nothing to kill")
            time.sleep(1)
            service.start()
        self._note("web: gunicorn answers again")

    def kill_worker(self):
        service = self.services["worker"]
        with service.lock:
            pids = _tree(service.proc.pid) if service.alive() else []
            service.kill()
            self.kills["worker"] += 1
            self._note(f"worker: SIGKILL to the rq worker and its work horse ({len(pids)} "
                       "processes)" if pids else "worker: had exited already; nothing to kill")
            time.sleep(1)
            service.start()
        self._note("worker: started again")

    def stop_redis(self):
        """Stop Redis, and start it again after its time; the other kills go on meanwhile
        (a web process killed while Redis is down is the harder case)."""
        service = self.services["redis"]
        self.redis_down = True
        with service.lock:
            service.stop()
        self.kills["redis"] += 1
        self._note(f"redis: stopped (SIGTERM, nothing saved) for {self.redis_seconds:.0f} s")
        self.outage = threading.Thread(target=self._restart_redis, daemon=True)
        self.outage.start()

    def _restart_redis(self):
        self.done.wait(self.redis_seconds)
        service = self.services["redis"]
        with service.lock:
            service.start()
        self.redis_down = False
        self._note("redis: started again, empty")


def _schedule(field: float, web_kills: int, worker_kills: int, redis_stop: bool) -> list:
    """Kills spread over the field time, apart from each other and from Redis's stop."""
    plan = [(field * (0.1 + 0.8 * n / max(1, web_kills - 1)) if web_kills > 1
             else field * 0.5, "kill_web") for n in range(web_kills)]
    plan += [(field * (0.3 + 0.5 * n / max(1, worker_kills - 1)) if worker_kills > 1
              else field * 0.6, "kill_worker") for n in range(worker_kills)]
    if redis_stop:
        plan.append((field * 0.45, "stop_redis"))
    return sorted(plan)


# --- the run ----------------------------------------------------------------------------------

def _env(args, tmp: Path, db_url: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (
        "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "UPLOAD_DIR", "MINGCHA_INSTANCE")}
    return env | {
        "MINGCHA_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": db_url, "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(tmp / "media"), "UPLOAD_DIR": str(tmp / "uploads"),
        "MINGCHA_INSTANCE": str(tmp / "instance"), "LOG_LEVEL": "INFO",
        "SWEEP_SECONDS": str(args.sweep_seconds), "PYTHONUNBUFFERED": "1"}


def _manage(env: dict, *command: str, verbose: bool):
    done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if verbose:
        print(done.stdout + done.stderr, file=sys.stderr)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{done.stdout}"
                           f"{done.stderr}")


def _accounts() -> list[tuple[str, str]]:
    """The demo's field staff: the inspectors and the conduct supervisors."""
    return [(username, demo.PASSWORD) for username, role, *_rest in demo.accounts()
            if role in ("inspector", "supervisor")]


def _database_figures(db_url: str, media: Path, uploads: Path) -> dict:
    """What the database and the media folder hold: evidence by state, uploads by state,
    originals on disk and whether each is its record's sha256, staging files left."""
    with psycopg.connect(db_url) as conn:
        states = Counter(dict(conn.execute(
            "SELECT state, count(*) FROM evidence WHERE deleted_at IS NULL GROUP BY state")))
        failures = conn.execute(
            "SELECT id, failure FROM evidence WHERE state = 'failed' AND deleted_at IS NULL"
            ).fetchall()
        stuck = conn.execute(
            "SELECT id, state, uploaded_at FROM evidence WHERE deleted_at IS NULL AND state "
            "IN ('processing', 'awaiting_upload')").fetchall()
        upload_states = Counter(dict(conn.execute(
            "SELECT state, count(*) FROM uploads GROUP BY state")))
        stored = dict(conn.execute(
            "SELECT storage_key, sha256 FROM evidence WHERE storage_key IS NOT NULL"))
    on_disk = {str(path.relative_to(media)): path for path in (media / "originals").rglob("*")
               if path.is_file()} if (media / "originals").is_dir() else {}
    wrong = [key for key, sha256 in stored.items()
             if key not in on_disk or _sha256(on_disk[key]) != sha256]
    strays = sorted(set(on_disk) - set(stored))
    staging = list(uploads.glob("*.part")) if uploads.is_dir() else []
    return {"states": states, "failures": failures, "stuck": stuck,
            "uploads": upload_states, "originals": len(on_disk), "wrong": wrong,
            "strays": strays, "staging": len(staging),
            "staging_bytes": sum(p.stat().st_size for p in staging)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


def _log_figures(web_log: Path, worker_log: Path) -> dict:
    """Requests gunicorn answered by status, the 5xx among them, tracebacks and worker
    failures."""
    statuses, errors, refusals, tracebacks = Counter(), Counter(), Counter(), Counter()
    text = web_log.read_text(errors="replace") if web_log.exists() else ""
    for match in ACCESS.finditer(text):
        statuses[match["status"][0] + "xx"] += 1
        path = re.sub(r"[0-9a-f-]{36}", "<id>", match["path"].split("?")[0])
        if match["status"].startswith("5"):
            errors[f"{match['method']} {path} {match['status']}"] += 1
        elif match["status"].startswith("4"):
            refusals[f"{match['method']} {path} {match['status']}"] += 1
    for name, log in (("web", web_log), ("worker", worker_log)):
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        for n, line in enumerate(lines):
            if line.startswith("Traceback"):
                last = next((lines[m] for m in range(n + 1, min(n + 200, len(lines)))
                             if lines[m] and not lines[m].startswith((" ", "Traceback"))),
                            "?")
                tracebacks[f"{name}: {last[:160]}"] += 1
    worker_text = worker_log.read_text(errors="replace") if worker_log.exists() else ""
    return {"statuses": statuses, "errors": errors, "refusals": refusals,
            "tracebacks": tracebacks, "jobs_ok": worker_text.count("Successfully completed"),
            "jobs_failed": len(re.findall(r"(?i)moved to FailedJobRegistry|job .* failed",
                                          worker_text)),
            "again": sum(n > 1 for n in Counter(re.findall(
                r"media: \S+process_evidence\('([0-9a-f-]{36})'\)", worker_text)).values()),
            "waited": text.count("waits for the sweeper")}


def _print(args, report, chaos: Chaos, figures: dict, logs: dict, seconds: dict):
    phones = report.phones
    stats = sum((p.stats for p in phones), Counter())
    faults = sum((p.faults for p in phones), Counter())
    kinds = Counter(d.kind for d in report.differences)
    text = format_report(report, verbose=args.verbose)
    if not args.verbose:  # the table of phones is long: its summary only
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith("phone") and not line.startswith("    "))
    print(text.split("\ndifferences:")[0].strip())
    print()
    print(f"soak: {len(phones)} phones on {len(set(p.username for p in phones))} accounts, "
          f"seed {args.seed}; requests dropped {args.drop_requests:.0%}, answers dropped "
          f"{args.drop_responses:.0%}, sent twice {args.duplicate:.0%}, cut mid-body "
          f"{args.cut:.0%}")
    print(f"time: {seconds['total']:.0f} s in all: setup {seconds['setup']:.0f} s, phones "
          f"{seconds['phones']:.0f} s ({args.field_seconds:.0f} s in the field, then syncing "
          f"and waiting for ready, then the clean pulls and downloads), database and logs "
          f"{seconds['verify']:.0f} s")
    print(f"kills: web (gunicorn master + workers, SIGKILL) {chaos.kills['web']}, worker "
          f"(rq worker + horse, SIGKILL) {chaos.kills['worker']}, redis stopped "
          f"{chaos.kills['redis']}x {args.redis_seconds:.0f} s; restarted by the watchdog "
          f"after exiting by themselves: {dict(chaos.unexpected) or 'none'}")
    for at, what in chaos.log:
        print(f"  {at:6.1f} s  {what}")
    print(f"phones' requests: {stats['requests']} ({stats['upload_requests']} of them tus), "
          f"retries {stats['retries']}; network: {faults['dropped_requests']} requests "
          f"dropped, {faults['dropped_responses']} answers dropped, {faults['duplicated']} "
          f"sent twice, {faults['cut']} cut mid-body, {faults['held']} held back")
    print(f"server: gunicorn answered {sum(logs['statuses'].values())} requests ("
          + ", ".join(f"{k} {v}" for k, v in sorted(logs["statuses"].items())) + ")"
          + (f"; 5xx: {dict(logs['errors'])}" if logs["errors"] else ""))
    if logs["refusals"]:
        print("  4xx: " + ", ".join(f"{k} {v}" for k, v in logs["refusals"].most_common()))
    print(f"evidence whose file was stored while Redis was down (left for the sweep): "
          f"{logs['waited']}")
    print(f"worker: {logs['jobs_ok']} jobs completed, {logs['jobs_failed']} failures logged; "
          f"media jobs started more than once (the one a killed horse ran): {logs['again']}")
    if logs["tracebacks"]:
        print("tracebacks in the logs:")
        for what, n in logs["tracebacks"].most_common(15):
            print(f"  {n:4}x {what}")
    print(f"database: evidence {dict(figures['states'])}; tus uploads "
          f"{dict(figures['uploads'])}; originals on disk {figures['originals']} "
          f"({len(figures['wrong'])} missing or not their record's sha256, "
          f"{len(figures['strays'])} without a record); staging files left "
          f"{figures['staging']} ({figures['staging_bytes'] / KB:.0f} KiB, unfinished "
          "uploads that expire)")
    for evidence_id, state, uploaded_at in figures["stuck"][:20]:
        print(f"  stuck: evidence {evidence_id} {state} (file stored {uploaded_at})")
    for evidence_id, failure in figures["failures"][:20]:
        print(f"  failed: evidence {evidence_id}: {failure}")
    lost = kinds["missing"]
    main_kinds = lost + kinds["duplicated"] + kinds["not_ready"] + kinds["file"]
    print()
    print(f"lost {lost}, duplicated {kinds['duplicated']}, not ready {kinds['not_ready']}, "
          f"files not stored as taken {kinds['file']}, other differences "
          f"{len(report.differences) - main_kinds}"
          f" ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'})")
    if report.differences:
        print(text[text.index("\ndifferences:"):].strip()[:20000])


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=8.0,
                        help="bound of the phones' part of the run (setup and checks add "
                        "about a minute)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drop-requests", type=float, default=0.2)
    parser.add_argument("--drop-responses", type=float, default=0.2)
    parser.add_argument("--duplicate", type=float, default=0.05)
    parser.add_argument("--cut", type=float, default=0.05,
                        help="share of requests whose connection breaks mid-body")
    parser.add_argument("--checks", type=int, default=4, help="checks per phone")
    parser.add_argument("--photos", default="1-3", help="photos per check, fewest-most")
    parser.add_argument("--chunk-kib", type=int, default=64, help="bytes per PATCH")
    parser.add_argument("--web-kills", type=int, default=3)
    parser.add_argument("--worker-kills", type=int, default=2)
    parser.add_argument("--redis-seconds", type=float, default=30,
                        help="how long Redis is stopped (0: never)")
    parser.add_argument("--sweep-seconds", type=int, default=60)
    parser.add_argument("--redis-db", type=int, default=3,
                        help="database number on the soak's own redis-server")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch database and the folder (logs, media)")
    parser.add_argument("--verbose", action="store_true",
                        help="progress, the table of phones and every record")
    args = parser.parse_args()
    fewest, _sep, most = args.photos.partition("-")
    args.photo_range = (int(fewest), int(most or fewest))
    args.field_seconds = 0.4 * args.minutes * 60
    return args


def main() -> int:
    args = _parse()
    say = progress(args.verbose)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="mingcha-soak-"))
    name, db_url = create_database(args.admin_url)
    services, chaos, failed = {}, None, True
    try:
        redis_port, web_port = _free_port(), _free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/{args.redis_db}"
        env = _env(args, tmp, db_url, redis_url)
        (tmp / "redis").mkdir()
        services["redis"] = Service("redis", [
            "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(tmp / "redis"), "--loglevel", "warning"],
            tmp / "redis.log", env, ready=lambda: _pings(redis_url))
        services["redis"].start()
        say(f"scratch database {name}: init-db, demo")
        _manage(env, "init-db", verbose=args.verbose)
        _manage(env, "demo", verbose=args.verbose)
        base = f"http://127.0.0.1:{web_port}"
        services["web"] = Service("web", [
            str(BIN / "gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{web_port}",
            "--access-logfile", "-", "server:create_app()"], tmp / "web.log", env,
            ready=lambda: _answers(base + "/healthz"))
        services["worker"] = Service("worker", [sys.executable, "manage.py", "worker"],
                                     tmp / "worker.log", env)
        services["web"].start()
        services["worker"].start()
        setup = time.monotonic() - began
        say(f"{setup:.0f} s: serving on {base}; {args.phones} phones for "
            f"{args.field_seconds:.0f} s in the field")

        schedule = _schedule(args.field_seconds, args.web_kills, args.worker_kills,
                             args.redis_seconds > 0)
        chaos = Chaos(services, schedule, args.redis_seconds, say)
        chaos.start()
        phones_began = time.monotonic()
        ready_seconds = max(30.0, args.minutes * 60 - args.field_seconds - 60)
        report = simulator.run(
            base, _accounts(), phones=args.phones, checks_per_phone=args.checks,
            drop_requests=args.drop_requests, drop_responses=args.drop_responses,
            duplicate=args.duplicate, seed=args.seed, cut=args.cut,
            backoff=Backoff(base=0.1, cap=5.0, max_attempts=8), workdir=str(tmp),
            camera=camera, photos=args.photo_range, upload_chunk=args.chunk_kib * KB,
            field_seconds=args.field_seconds, sync_chance=0.5,
            ready_seconds=ready_seconds, say=say)
        phones = time.monotonic() - phones_began
        chaos.done.set()
        chaos.join()
        if chaos.error:
            raise chaos.error
        checked = time.monotonic()
        figures = _database_figures(db_url, tmp / "media", tmp / "uploads")
        logs = _log_figures(tmp / "web.log", tmp / "worker.log")
        seconds = {"setup": setup, "phones": phones, "verify": time.monotonic() - checked,
                   "total": time.monotonic() - began}
        _print(args, report, chaos, figures, logs, seconds)
        failed = bool(report.differences or figures["wrong"])
    finally:
        if chaos is not None:
            chaos.done.set()
            chaos.join(60)  # Redis may be starting again: then it is stopped below
        for service in reversed(services.values()):  # Redis last: the worker needs it
            service.stop()
        if args.keep or failed:
            print(f"\nlogs and media kept in {tmp}"
                  + (f"; database {name} kept" if args.keep else ""), file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            drop_database(args.admin_url, name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
