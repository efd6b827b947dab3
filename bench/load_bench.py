"""Load benchmark (issue 14): fifty phones syncing at once at the end of the working day.

    .venv/bin/python bench/load_bench.py [--phones 50] [--photo-mb 7] [--hosts 1] [--verbose]

One command. It starts the production set-up the README describes on this host: a
scratch PostgreSQL database (``manage.py init-db``, the demo bureau from ``manage.py
demo``), a redis-server of its own on a loopback port, gunicorn with the README's
command line, and ``manage.py worker`` as it starts by default. Then each simulated
phone (sync/client.py, the reference client; the demo's inspectors and supervisors,
several phones to an account) signs in, all at once; then, when every phone is signed
in (a phone signs in once and keeps its token), all at once again as at the end of the
working day, pulls everything, pushes four times (a check, then each photo's record)
and uploads three photos of ``--photo-mb`` MB by tus. A watcher reads the database
every 0.2 s for evidence turned ``ready``.

It prints p50 / p95 / max of sign-in, first pull, push, upload and time to ready (from
the end of a photo's upload to its evidence ``ready``), the errors (requests the client
had to retry, steps that failed, evidence not ready), and the drain efficiency: the sum
of the media jobs' own CPU time (each job logs it) over (cores x the time from the first
upload's end to the last ``ready``); and the cores each tier (web, worker, the load
client, PostgreSQL) used while phones uploaded and after the last upload, which is what
bounds the drain on a shared host. Targets (issue 14, 50 phones, this 2-core machine):
no errors; push p95 <= 500 ms; first pull p95 <= 1 s; ready p95 <= 10 s; drain
efficiency >= 0.6. Exits 1 when a target is missed.

``--hosts 2`` runs the same load across hosts: two web hosts and two worker hosts behind
nginx, sharing only PostgreSQL, Redis and an S3 store, while one web and one worker host
are killed -9 in the middle (bench/cluster_bench.py tells how).
"""

import argparse
import contextlib
import io
import multiprocessing
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import create_database, drop_database  # noqa: E402  (bench/ is on the path)
from soak import BIN, GUNICORN, Service, _answers, _exif, _free_port, _pings, _tree  # noqa: E402
from verbosity import progress  # noqa: E402

from server.demo import data as demo  # noqa: E402
from sync.backoff import Backoff  # noqa: E402
from sync.client import Client  # noqa: E402

LOCAL = timezone(timedelta(hours=8))
TARGETS = {"push": 0.5, "pull": 1.0, "ready": 10.0}  # p95 seconds
DRAIN_TARGET = 0.6
PUSHES, PHOTOS = 4, 3
SHM = Path("/dev/shm")  # noqa: S108 - mkdtemp makes a private folder in it
FIELD_APP_CHUNK = 5 * 1024 * 1024  # bytes per PATCH, as the field app sends (uploads.js)


# --- photos ----------------------------------------------------------------------------

def base_photos(count: int, megabytes: float, rng: random.Random) -> list[bytes]:
    """JPEGs of about ``megabytes`` as a 12-megapixel phone camera makes them: noisy, with
    EXIF time and GPS. Made once; each upload gets its own bytes from ``unique``."""
    photos = []
    for _ in range(count):
        noise = Image.merge("RGB", [Image.effect_noise((4000, 3000), rng.uniform(30, 60))
                                    for _ in "rgb"])
        site = {"lat": 34.26, "lon": 117.19, "radius_m": 300}
        exif = _exif(rng, site, datetime.now(LOCAL))
        for quality in range(60, 99, 4):  # the first quality that reaches the size
            out = io.BytesIO()
            noise.save(out, "JPEG", quality=quality, exif=exif)
            if out.tell() >= megabytes * 0.95e6:
                break
        photos.append(out.getvalue())
    return photos


def unique(photo: bytes, tag: str) -> bytes:
    """The photo with a JPEG comment naming ``tag`` after its EXIF segment: other bytes,
    another sha256, the same picture, at no cost of encoding."""
    length = struct.unpack(">H", photo[4:6])[0]  # APP1 (EXIF) follows the SOI marker
    at = 4 + length
    text = tag.encode()
    return photo[:at] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + photo[at:]


# --- the phones ----------------------------------------------------------------------------

class Timings:
    def __init__(self):
        self.lock = threading.Lock()
        self.seconds = defaultdict(list)
        self.uploaded = {}  # evidence id -> wall clock when its upload ended
        self.failures = []

    def time(self, step: str, call):
        began = time.perf_counter()
        result = call()
        with self.lock:
            self.seconds[step].append(time.perf_counter() - began)
        return result


def phone(n: int, account: tuple[str, str], base: str, folder: Path, photos: list[bytes],
          timings: Timings, start: threading.Barrier):
    rng = random.Random(n)
    backoff = Backoff(base=0.1, cap=2.0, max_attempts=8, rng=random.Random(n))
    # The photos the camera took during the day exist before the day's end. Made in the
    # window, each cost two 7 MB copies into fresh memory while holding the interpreter:
    # the phones of that process waited, and the load client used 4 s more of the cores.
    taken = [unique(photos[(n + k) % len(photos)], f"phone{n}-{k}") for k in range(PHOTOS)]
    with Client(base, folder / f"phone{n}.db", backoff=backoff, timeout=60,
                upload_chunk=FIELD_APP_CHUNK) as client:
        start.wait()  # every phone at once
        timings.time("sign-in", lambda: client.login(*account, f"压测手机{n}"))
        start.wait()  # signed in (once, in the morning); now the day's end, all at once
        timings.time("pull", client.pull)
        sites = client.records("site")
        site = rng.choice(sites)
        started = datetime.now(LOCAL) - timedelta(minutes=40)
        check_id = client.upsert("check", None, {
            "site_id": site.entity_id, "mode": "open", "started_at": started.isoformat(),
            "notes": "压测：上下班签到检查", "location": {"lat": site.data["lat"],
                                                   "lon": site.data["lon"]}})
        timings.time("push", client.push)
        for k in range(PHOTOS):
            when = started + timedelta(minutes=5 * (k + 1))
            evidence_id = client.add_evidence(
                check_id, "photo", taken[k],
                filename=f"IMG_{when:%Y%m%d_%H%M%S}.jpg",
                captured_at=when.isoformat(timespec="seconds"),
                location={"lat": site.data["lat"], "lon": site.data["lon"]})
            timings.time("push", client.push)
            done = timings.time("upload", client.upload)
            if done != {"uploaded": 1}:
                timings.failures.append(f"phone{n}: the upload of {evidence_id}: {dict(done)}")
            with timings.lock:
                timings.uploaded[evidence_id] = time.time()
        return client.stats.copy()


def phones(numbers: list[int], accounts: list, base: str, folder: Path, photos: list[bytes],
           start, results):
    """One process of the load client: these phones, a thread each. Phones spread over
    several processes, as real phones are apart: in one process their threads would
    wait for each other's turn at the interpreter, and the latencies measured would be
    the client's."""
    timings, stats = Timings(), []
    with ThreadPoolExecutor(len(numbers)) as pool:
        runs = {n: pool.submit(phone, n, accounts[n % len(accounts)], base, folder, photos,
                               timings, start) for n in numbers}
        for n, run in runs.items():
            try:
                stats.append(run.result())
            except Exception as error:  # counted as an error, the others go on
                timings.failures.append(f"phone{n}: {type(error).__name__}: {error}")
    results.put((dict(timings.seconds), timings.uploaded, timings.failures, stats))


def _shares(count: int, processes: int) -> list[list[int]]:
    processes = max(1, min(processes, count))
    return [list(range(k, count, processes)) for k in range(processes)]


def watch_ready(db_url: str, wanted: int, seen: dict, stop: threading.Event):
    """Note when each evidence made after the watch began is first seen ``ready`` or
    ``failed`` (the demo's own evidence is ready already)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        before = {row[0] for row in conn.execute("SELECT id::text FROM evidence")}
        while not stop.is_set() and len(seen) < wanted:
            now = time.time()
            for evidence_id, state in conn.execute(
                    "SELECT id::text, state FROM evidence WHERE state IN ('ready', 'failed')"):
                if evidence_id not in before:
                    seen.setdefault(evidence_id, (now, state))
            stop.wait(0.2)


# --- figures ---------------------------------------------------------------------------------

def cpu_now(services: dict, crowd: list) -> dict:
    """CPU seconds used so far: by each service's process tree (with its reaped children:
    rq's work horses), by this load client, and by the whole machine (PostgreSQL, Redis
    and the rest are what remains)."""
    tick = os.sysconf("SC_CLK_TCK")

    def used_by(pids) -> float:
        total = 0
        for pid in pids:
            try:  # utime, stime, cutime, cstime follow the state, after the name's ")"
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:  # ended meanwhile
                continue
            total += sum(int(f) for f in fields[11:15])
        return total / tick
    used = {name: used_by(_tree(service.proc.pid)) for name, service in services.items()}
    running = [p.pid for p in crowd if p.exitcode is None]  # the others are reaped: mine
    mine = os.times()
    used["load client"] = (mine.user + mine.system + mine.children_user
                           + mine.children_system + used_by(running))
    fields = Path("/proc/stat").read_text().split("\n")[0].split()[1:]
    busy = sum(int(f) for n, f in enumerate(fields[:8]) if n not in (3, 4))  # not idle, iowait
    used["machine"] = busy / tick
    return used


class CpuSampler(threading.Thread):
    """``cpu_now`` every half second with its wall-clock time, from the day's end on: how
    the tiers shared the cores while phones uploaded, and after (``phase_report``)."""

    def __init__(self, services: dict, crowd: list):
        super().__init__(name="cpu-sampler", daemon=True)
        self.services, self.crowd = services, crowd
        self.samples: list[tuple[float, dict]] = []
        self.done = threading.Event()

    def run(self):
        while True:
            self.samples.append((time.time(), cpu_now(self.services, self.crowd)))
            if self.done.wait(0.5):
                return

    def stop(self):
        self.done.set()
        self.join()
        self.samples.append((time.time(), cpu_now(self.services, self.crowd)))


def phase_report(samples: list[tuple[float, dict]], uploaded: float, ready: float):
    """Cores each tier used from the first sample (the day's end) to ``uploaded`` (the
    last upload's end), and from there to ``ready`` (the last evidence ready): the drain
    is what the workers got of the cores in the first phase and the second."""
    def at(moment: float) -> tuple[float, dict]:  # the sample nearest the moment
        return min(samples, key=lambda sample: abs(sample[0] - moment))

    parts = []
    for name, start, end in (("while phones upload", samples[0][0], uploaded),
                             ("after the last upload", uploaded, ready)):
        (t0, before), (t1, after) = at(start), at(end)
        if t1 - t0 < 0.5:  # within one sample
            parts.append(f"{name}: too short to measure")
            continue
        spent, _machine = by_tier(before, after)
        parts.append(f"{name} ({t1 - t0:.1f} s): " + ", ".join(
            f"{tier} {value / (t1 - t0):.2f}" for tier, value in spent.items()))
    print(f"cores used by each tier, {os.cpu_count()} in all: " + "; ".join(parts))


def by_tier(before: dict, after: dict) -> tuple[dict, float]:
    """CPU seconds each tier used between two ``cpu_now``, PostgreSQL and the rest being
    what the machine used beyond the others; and the machine's."""
    spent = {name: after[name] - before[name] for name in after}
    machine = spent.pop("machine")
    return spent | {"PostgreSQL and the rest": machine - sum(spent.values())}, machine


def cpu_report(before: dict, after: dict, seconds: float):
    spent, machine = by_tier(before, after)
    parts = ", ".join(f"{name} {value:.1f} s" for name, value in spent.items())
    print(f"cpu in the {seconds:.1f} s from the pull to the last ready: {parts}; idle "
          f"{max(0.0, os.cpu_count() * seconds - machine):.1f} s of {os.cpu_count()} cores")


def quantiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    if not ordered:
        return (float("nan"),) * 3

    def at(share):
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
    return statistics.median(ordered), at(0.95), ordered[-1]


def job_cpu(worker_logs: list[Path]) -> tuple[float, int]:
    """The media jobs' own CPU seconds, and how many jobs, from the workers' logs."""
    found = [cpu for log in worker_logs for cpu in re.findall(
        r"media job \S+: ready in [\d.]+ s, ([\d.]+) s cpu", log.read_text(errors="replace"))]
    return sum(float(cpu) for cpu in found), len(found)


def served(web_logs: list[Path]) -> dict[str, list[float]]:
    """The web hosts' own seconds per pull and push, from their request logs: from when a
    gunicorn thread took the request to its answer."""
    found = {"pull": [], "push": []}
    for log in web_logs:
        for step, ms in re.findall(r"mingcha\.request \w+ /api/v1/sync/(pull|push)\S* \d{3} "
                                   r"([\d.]+)ms", log.read_text(errors="replace")):
            found[step].append(float(ms) / 1000)
    return found


def report(args, timings: Timings, seen: dict, stats: list, worker_logs: list[Path],
           web_logs: list[Path], retries_expected: bool = False) -> bool:
    """Print the figures; whether every target was met. ``retries_expected``: requests
    retried count as no error (servers were killed on purpose)."""
    print(f"load: {args.phones} phones, each: sign in; then together: pull, {PUSHES} "
          f"pushes, {PHOTOS} photos of {args.photo_mb} MB; gunicorn {' '.join(GUNICORN)}; "
          f"`manage.py worker` as started by default; {os.cpu_count()} cores")
    print(f"{'step':<10}{'n':>5}{'p50':>10}{'p95':>10}{'max':>10}   target")
    ready = [seen[e][0] - at for e, at in timings.uploaded.items() if e in seen]
    rows = {"sign-in": timings.seconds["sign-in"], "pull": timings.seconds["pull"],
            "push": timings.seconds["push"], "upload": timings.seconds["upload"],
            "ready": ready}
    met = True
    for step, values in rows.items():
        p50, p95, worst = quantiles(values)
        target = TARGETS.get(step)
        verdict = ""
        if target is not None:
            ok = p95 <= target
            met &= ok
            verdict = f"p95 <= {target:g} s: {'PASS' if ok else 'FAIL'} " \
                      f"(ratio {p95 / target:.2f})"
        print(f"{step:<10}{len(values):>5}{p50:>9.3f}s{p95:>9.3f}s{worst:>9.3f}s   {verdict}")
    own = ", ".join("{} p50 {:.3f}s p95 {:.3f}s".format(step, *quantiles(values)[:2])
                    for step, values in served(web_logs).items())
    print(f"  the server's own time (its request log, from a gunicorn thread taking the "
          f"request): {own}; the rest of a phone's time is the wait for a thread or a core, "
          f"and the load client's own work")
    retries = sum(s.get("retries", 0) for s in stats)
    not_ready = len(timings.uploaded) - sum(1 for e in timings.uploaded
                                            if seen.get(e, (0, ""))[1] == "ready")
    errors = (0 if retries_expected else retries) + len(timings.failures) + not_ready
    print(f"errors: {errors} (retried requests {retries}"
          + (", expected: servers were killed" if retries_expected else "")
          + f", failed steps {len(timings.failures)}, photos not ready {not_ready})")
    for failure in timings.failures[:10]:
        print("  " + failure)
    met &= errors == 0
    cpu, jobs = job_cpu(worker_logs)
    if timings.uploaded and seen:
        span = max(t for t, _state in seen.values()) - min(timings.uploaded.values())
        drain = cpu / (os.cpu_count() * span)
        ok = drain >= DRAIN_TARGET
        met &= ok
        print(f"drain: {jobs} media jobs, {cpu:.1f} s of their own CPU in {span:.1f} s on "
              f"{os.cpu_count()} cores: efficiency {drain:.2f} (target >= {DRAIN_TARGET}: "
              f"{'PASS' if ok else 'FAIL'}); {jobs / span:.1f} photos ready a second")
    print("all targets met" if met else "targets missed")
    return met


# --- the run --------------------------------------------------------------------------------

def _env(tmp: Path, db_url: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (
        "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "UPLOAD_DIR", "MINGCHA_INSTANCE")}
    return env | {
        "MINGCHA_ENV": "production", "SECRET_KEY": os.urandom(24).hex(),
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "MEDIA_ROOT": str(tmp / "media"),
        "UPLOAD_DIR": str(tmp / "uploads"), "MINGCHA_INSTANCE": str(tmp / "instance"),
        "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}


def _manage(env: dict, *command: str):
    done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _accounts() -> list[tuple[str, str]]:
    return [(username, demo.PASSWORD) for username, role, *_rest in demo.accounts()
            if role in ("inspector", "supervisor")]


class Run:
    """What the phones measured (``timings``, ``seen``: evidence id -> when it was first
    seen ready or failed, and its state; ``stats``: each phone's counters), the CPU used
    when they began, and their processes."""

    def __init__(self, timings, seen, stats, cpu, crowd, sampler):
        self.timings, self.seen, self.stats, self.cpu, self.crowd, self.sampler = (
            timings, seen, stats, cpu, crowd, sampler)


def drive(args, base: str, db_url: str, tmp: Path, services: dict, say,
          ready_wait: float = 300) -> Run:
    """The phones against ``base``: made, signed in together, then all at once the day's
    end; then wait (at most ``ready_wait`` seconds) for their photos' evidence to be
    ready."""
    say("making photos")
    photos = base_photos(6, args.photo_mb, random.Random(1))
    say(f"photos of {[len(p) // 1000 for p in photos]} KB; {args.phones} phones go")
    accounts = _accounts()
    seen, stop = {}, threading.Event()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    watcher = threading.Thread(target=watch_ready, args=(
        db_url.replace("+psycopg", ""), args.phones * PHOTOS, seen, stop), daemon=True)
    watcher.start()
    start = multiprocessing.Barrier(args.phones + 1)  # the phones, and this process
    with _phones_folder(tmp, args.phones * PHOTOS * args.photo_mb * 1e6) as own:
        crowd = [context.Process(target=phones, args=(
            share, accounts, base, own, photos, start, results), daemon=True)
            for share in _shares(args.phones, args.processes)]
        for process in crowd:
            process.start()
        start.wait()  # they sign in
        start.wait()  # the day's end: every phone pulls, pushes and uploads at once
        cpu = time.monotonic(), cpu_now(services, crowd)
        sampler = CpuSampler(services, crowd)
        sampler.start()
        timings, stats = Timings(), []
        for _ in crowd:
            seconds, uploaded, failures, phone_stats = results.get()
            for step, values in seconds.items():
                timings.seconds[step] += values
            timings.uploaded.update(uploaded)
            timings.failures += failures
            stats += phone_stats
        deadline = time.monotonic() + ready_wait
        while watcher.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        watcher.join()
        sampler.stop()
    return Run(timings, seen, stats, cpu, crowd, sampler)


@contextlib.contextmanager
def _phones_folder(tmp: Path, photo_bytes: float) -> Iterator[Path]:
    """Where the phones keep their databases and photos: in memory (/dev/shm) when the
    host has it with room for their photos, as a phone's flash is its own. On the
    server's disk, each of a push's SQLite commits waited for its fsync behind the
    uploads' (0.25 s at p95), and that was counted as the server's."""
    roomy = SHM.is_dir() and os.access(SHM, os.W_OK) and (
        shutil.disk_usage(SHM).free > 2 * photo_bytes)  # a container's is often 64 MB
    if not roomy:
        yield tmp
        return
    folder = Path(tempfile.mkdtemp(prefix="mingcha-phones-", dir=SHM))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--photo-mb", type=float, default=7.0)
    parser.add_argument("--processes", type=int, default=os.cpu_count() * 2,
                        help="processes of the load client, the phones spread over them")
    parser.add_argument("--hosts", type=int, choices=(1, 2), default=1,
                        help="2: two web and two worker hosts behind nginx, with S3 "
                        "(bench/cluster_bench.py)")
    parser.add_argument("--no-kills", action="store_true",
                        help="with --hosts 2: kill no host in the middle of the run")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep logs and media")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args()


def main() -> int:
    args = parse()
    if args.hosts == 2:
        import cluster_bench  # it builds on this module

        return cluster_bench.run(args)
    say = progress(args.verbose)
    tmp = Path(tempfile.mkdtemp(prefix="mingcha-load-"))
    name, db_url = create_database(args.admin_url)
    services, met = {}, False
    try:
        redis_port, web_port = _free_port(), _free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        env = _env(tmp, db_url, redis_url)
        (tmp / "redis").mkdir()
        services["redis"] = redis_service(redis_port, redis_url, tmp, env)
        services["redis"].start()
        say(f"scratch database {name}: init-db, demo")
        _manage(env, "init-db")
        _manage(env, "demo")
        base = f"http://127.0.0.1:{web_port}"
        services["web"] = Service("web", [
            str(BIN / "gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{web_port}",
            "server:create_app()"], tmp / "web.log", env,
            ready=lambda: _answers(base + "/healthz"))
        services["worker"] = Service("worker", [sys.executable, "manage.py", "worker"],
                                     tmp / "worker.log", env)
        services["web"].start()
        services["worker"].start()
        run = drive(args, base, db_url, tmp, services, say)
        met = report(args, run.timings, run.seen, run.stats, [tmp / "worker.log"],
                     [tmp / "web.log"])
        cpu_report(run.cpu[1], cpu_now(services, run.crowd), time.monotonic() - run.cpu[0])
        if run.timings.uploaded and run.seen:
            phase_report(run.sampler.samples, max(run.timings.uploaded.values()),
                         max(t for t, _state in run.seen.values()))
    finally:
        for service in reversed(services.values()):
            service.stop()
        if args.keep:
            print(f"logs and media kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        drop_database(args.admin_url, name)
    return 0 if met else 1


def redis_service(port: int, url: str, tmp: Path, env: dict) -> Service:
    """A redis-server of the benchmark's own on a loopback port, keeping nothing."""
    return Service("redis", [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(tmp / "redis"), "--loglevel", "warning"],
        tmp / "redis.log", env, ready=lambda: _pings(url))


if __name__ == "__main__":
    sys.exit(main())
