"""Load benchmark across hosts (issue 14, point 4): load_bench.py's phones against two web
hosts and two worker hosts that share only PostgreSQL, Redis and S3-compatible storage,
behind nginx; one web host and one worker host are killed -9 in the middle.

    .venv/bin/python bench/load_bench.py --hosts 2 [--phones 50] [--no-kills] [--keep]
        [--verbose]

The same one command, the same phones and the same figures as load_bench.py. On this one
machine a host is processes of their own on a loopback address of their own, with their
own folders (UPLOAD_DIR, MINGCHA_INSTANCE and TMPDIR: hosts share no disk) and, where
unshare(1) may give them one (as root), their own host name, so that, as on separate
machines, a host does not take another's upload leases for those of its own dead
processes. The run starts:

- a scratch PostgreSQL database (``manage.py init-db``, ``manage.py demo``) and a
  redis-server, as load_bench.py does;
- moto's S3 server on 127.0.0.4 and a bucket: every host's ``MEDIA_ROOT`` is
  ``s3://mingcha-bench/media?endpoint=http://127.0.0.4:PORT``;
- web hosts A (127.0.0.2) and B (127.0.0.3): gunicorn with the README's command line;
- worker hosts C and D: ``manage.py worker`` as it starts by default;
- nginx from Debian on 127.0.0.1, as the load balancer, with a configuration of its own
  in the run's folder (``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'``): every request
  for one tus upload goes to one web host (a consistent hash of the upload's id; the
  unfinished bytes are on that host's disk), the desk's registry import to one host (its
  files wait there between preview and import), every other request to either; a request
  a dead host refuses goes to the other.

When half of the photos are uploaded, every process of web host A and of worker host C
gets SIGKILL; both start again 2 s later (``--no-kills``: nobody is killed). Then the
report of load_bench.py (requests retried count as no error when hosts were killed:
they are how phones ride out a dead host), the kills, and what was lost, checked on the
server's side: evidence that is not ``ready``, pushes not applied, originals missing from
the store or of another size, uploads the phones had to start anew, staging files left on
each web host, and the requests each web host answered (nginx's log). Exits 1 when
anything was lost or a target missed.
"""

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config
from load_bench import (
    PHOTOS,
    PUSHES,
    _env,
    _manage,
    cpu_now,
    cpu_report,
    drive,
    redis_service,
    report,
)
from scratch_db import create_database, drop_database
from soak import BIN, GUNICORN, Service, _answers, _free_port, _tree
from verbosity import progress

BUCKET = "mingcha-bench"
WEB = {"web-a": "127.0.0.2", "web-b": "127.0.0.3"}
WORKERS = ("worker-c", "worker-d")
S3_HOST = "127.0.0.4"
MOTO_KEY = "bench"  # moto takes any key: this names no account anywhere
KILLED = ("web-a", "worker-c")
DOWN_SECONDS = 2.0
PHONES = "压测手机%"  # the devices load_bench.py's phones sign in as
# How long to wait for the last photo to be ready. A killed worker host's jobs are retried
# at once when it starts again, or by any worker's sweep once three of their heartbeats
# (JOB_HEARTBEAT_SECONDS, 30 s) are missed. A photo waited at most 23 s in the last
# 50-phone run; this bound only stops a broken run.
READY_WAIT = 480


# --- the hosts ------------------------------------------------------------------------------

def _can_unshare() -> bool:
    """Whether unshare(1) may give a process a host name of its own (root, usually)."""
    if not shutil.which("unshare"):
        return False
    done = subprocess.run(["unshare", "--uts", "true"], capture_output=True)
    return done.returncode == 0


def on_host(name: str, cmd: list, own_name: bool) -> list:
    """``cmd`` as a process of host ``name``: under that host name when we may give it
    one. ``exec`` keeps the pid, so killing the service kills the host's processes."""
    if not own_name:
        return cmd
    return ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', name, *cmd]


def host_env(env: dict, tmp: Path, name: str, media_root: str) -> dict:
    """The environment every host shares, with this host's own folders: it shares no disk
    with the others."""
    folder = tmp / name
    for sub in ("uploads", "instance", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    shared = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    return shared | {
        "MEDIA_ROOT": media_root, "UPLOAD_DIR": str(folder / "uploads"),
        "MINGCHA_INSTANCE": str(folder / "instance"), "TMPDIR": str(folder / "tmp"),
        "PROXY_COUNT": "1",  # nginx in front
        "AWS_ACCESS_KEY_ID": MOTO_KEY, "AWS_SECRET_ACCESS_KEY": MOTO_KEY,
        "AWS_DEFAULT_REGION": "us-east-1"}


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=MOTO_KEY, aws_secret_access_key=MOTO_KEY,
                        config=Config(s3={"addressing_style": "path"}))


NGINX = """\
# Written by bench/cluster_bench.py for one run; every path is in this folder.
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}

http {{
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    log_format balanced '$request_method $uri $status "$upstream_addr" '
                        '"$upstream_status" $request_time';
    access_log {dir}/access.log balanced;

    # What picks the web host: a tus upload's id (its unfinished bytes are on one host's
    # disk), one key for the registry import (its files wait on one host between the
    # preview and the import), and each other request on its own.
    map $uri $mingcha_key {{
        ~^/api/v1/uploads/(?<upload_id>[^/]+)$  $upload_id;
        ~^/admin/registry/import                registry-import;
        default                                 $request_id;
    }}

    upstream mingcha {{
        hash $mingcha_key consistent;
{servers}
        keepalive 32;
        # Well below the web hosts' 5 s (--keep-alive): a connection gunicorn has closed is
        # never reused, which answers the request with a reset and counts as a failure.
        keepalive_timeout 1s;
    }}

    server {{
        listen 127.0.0.1:{port};

        client_max_body_size 6m;
        client_body_timeout 120s;
        send_timeout 120s;

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_connect_timeout 5s;
        proxy_send_timeout 120s;
        proxy_read_timeout 120s;
        # A host that refuses the connection (it is dead) or does not answer: the other.
        # nginx never sends a PATCH or POST again once it went out: the phone retries.
        proxy_next_upstream error timeout;

        location / {{
            proxy_pass http://mingcha;
        }}

        location /api/v1/uploads {{
            client_max_body_size 2g;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
            proxy_pass http://mingcha;
        }}
    }}
}}
"""


def nginx_conf(folder: Path, port: int, web_port: int) -> str:
    servers = "\n".join(f"        server {address}:{web_port} max_fails=3 fail_timeout=30s;"
                        for address in WEB.values())  # as docs/deploy.md
    # Run as root, nginx's workers would become "nobody", who may not enter this folder.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return NGINX.format(dir=folder, port=port, servers=servers, user=user)


# --- the kills ---------------------------------------------------------------------------------

class Kills(threading.Thread):
    """When half of the photos are uploaded, SIGKILL to every process of web host A and
    worker host C at once; both start again DOWN_SECONDS later. Keeps what the killed
    processes had used of the CPU (their tree is gone afterwards) and what was under way."""

    def __init__(self, services: dict, db_url: str, wanted: int, say):
        super().__init__(daemon=True)
        self.services, self.db_url, self.wanted, self.say = services, db_url, wanted, say
        self.done = threading.Event()
        self.began = time.monotonic()
        self.log = []  # (seconds since the phones began, what)
        self.cpu = Counter()  # CPU seconds of the killed trees
        self.reaped = 0.0  # of which this process, reaping them, counts as its children's
        self.error = None

    def _note(self, what: str):
        at = time.monotonic() - self.began
        self.log.append((at, what))
        self.say(f"{at:6.1f} s  {what}")

    def run(self):
        try:
            with psycopg.connect(self.db_url, autocommit=True) as conn:
                count = "SELECT count(*) FROM uploads WHERE state = 'complete'"
                before = conn.execute(count).fetchone()[0]
                while not self.done.wait(0.2):
                    if conn.execute(count).fetchone()[0] - before >= self.wanted:
                        break
                else:
                    return
                leases = conn.execute(
                    "SELECT count(*) FROM uploads WHERE lease IS NOT NULL AND "
                    "lease_holder LIKE %s", (f"{KILLED[0]} %",)).fetchone()[0]
                self._kill(leases)
        except Exception as error:  # reported by the main thread
            self.error = error

    def _kill(self, leases: int):
        killed = {name: self.services[name] for name in KILLED}
        for name, service in killed.items():
            self.cpu[name] += cpu_now({name: service}, [])[name]
        sizes = {name: len(_tree(service.proc.pid)) for name, service in killed.items()}
        for service in killed.values():  # at once: a host loses its power
            for pid in _tree(service.proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
        before = os.times()
        for service in killed.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.proc.wait(30)
        after = os.times()
        self.reaped = (after.children_user + after.children_system
                       - before.children_user - before.children_system)
        self._note(f"SIGKILL to web host A ({sizes['web-a']} processes: gunicorn and its "
                   f"workers; {leases} PATCHes were writing there) and worker host C "
                   f"({sizes['worker-c']} processes: workers and work horses)")
        time.sleep(DOWN_SECONDS)
        for service in killed.values():
            service.start()
        self._note("web host A answers again; worker host C started again")


# --- what was lost ----------------------------------------------------------------------------

def server_figures(db_url: str, s3, phones: int) -> dict:
    """What the server holds of the phones' work: the pushes applied per phone, their
    evidence by state, whether each ready photo's original is in the store at its size,
    and the tus uploads by state."""
    with psycopg.connect(db_url) as conn:
        applied = dict(conn.execute(
            "SELECT d.name, count(a.id) FROM devices d LEFT JOIN applied_mutations a "
            "ON a.device_id = d.id WHERE d.name LIKE %s GROUP BY d.name", (PHONES,)).fetchall())
        evidence = conn.execute(
            "SELECT e.id::text, e.state, e.storage_key, e.size, e.failure FROM evidence e "
            "JOIN applied_mutations a ON a.entity_id = e.id AND a.type = 'evidence' "
            "JOIN devices d ON d.id = a.device_id WHERE d.name LIKE %s", (PHONES,)).fetchall()
        uploads = Counter(dict(conn.execute(
            "SELECT state, count(*) FROM uploads GROUP BY state").fetchall()))
    stored = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        stored |= {item["Key"]: item["Size"] for item in page.get("Contents", [])}
    prefix = "media/"
    missing = [e for e in evidence if e[1] == "ready"
               and stored.get(prefix + (e[2] or "")) != e[3]]
    return {"applied": applied, "short": {name: n for name, n in applied.items()
                                          if n != PUSHES},
            "devices": len(applied), "evidence": Counter(e[1] for e in evidence),
            "failed": [(e[0], e[4]) for e in evidence if e[1] == "failed"],
            "expected": phones * PHOTOS, "missing": missing, "uploads": uploads}


def staging_left(tmp: Path) -> dict:
    left = {}
    for name in WEB:
        files = list((tmp / name / "uploads").glob("*.part"))
        left[name] = (len(files), sum(f.stat().st_size for f in files))
    return left


LINE = re.compile(r'^(?P<method>\S+) (?P<uri>\S+) (?P<status>\d{3}) "(?P<upstream>[^"]*)" ')


def balancer_figures(access_log: Path, web_port: int) -> dict:
    """From nginx's log: requests each web host answered, requests nginx passed on to the
    other host (the first refused), and the 5xx phones saw."""
    names = {f"{address}:{web_port}": name for name, address in WEB.items()}
    answered, passed, errors = Counter(), 0, Counter()
    text = access_log.read_text(errors="replace") if access_log.exists() else ""
    for line in text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        tried = [a.strip() for a in match["upstream"].split(",") if a.strip()]
        if tried:
            answered[names.get(tried[-1], tried[-1])] += 1
        passed += len(tried) > 1
        if match["status"].startswith("5"):
            path = re.sub(r"[0-9a-f-]{36}", "<id>", match["uri"])
            errors[f"{match['method']} {path} {match['status']}"] += 1
    return {"answered": answered, "passed": passed, "errors": errors}


def _log_count(path: Path, pattern: str) -> int:
    return len(re.findall(pattern, path.read_text(errors="replace"))) if path.exists() else 0


def print_lost(args, run, figures: dict, left: dict, balancer: dict, kills, tmp: Path) -> bool:
    """What the kills cost; whether nothing was lost."""
    stats = sum((Counter(s) for s in run.stats), Counter())
    if kills is not None:
        print(f"kills: web host A and worker host C, SIGKILL to every process of each, "
              f"started again after {DOWN_SECONDS:g} s:")
        for at, what in kills.log:
            print(f"  {at:6.1f} s into the run  {what}")
        if not kills.log:
            print("  none happened: the photos were uploaded before half of them were seen")
    answered = ", ".join(f"{name} {balancer['answered'][name]}" for name in WEB)
    print(f"balancer: requests answered by {answered}; passed to the other host after a "
          f"refusal {balancer['passed']}; 5xx to phones "
          + (", ".join(f"{k} {v}" for k, v in balancer["errors"].most_common())
             or "none"))
    lost = sum(_log_count(tmp / f"{name}.log", r" /api/v1/uploads/\S+ 410 ") for name in WEB)
    print(f"phones: uploads started anew {stats['uploads_restarted']} (answers 410 'Upload "
          f"lost' {lost}), resumed after a failure {stats['uploads_resumed']}, "
          f"requests retried {stats['retries']}; tus uploads on the server "
          f"{dict(figures['uploads'])}")
    print("staging files left: " + ", ".join(
        f"{name} {n} ({size / 1e6:.1f} MB)" for name, (n, size) in left.items())
        + " (unfinished uploads' bytes; removed when they expire)")
    states = figures["evidence"]
    not_ready = figures["expected"] - states["ready"]
    unapplied = sum(PUSHES - n for n in figures["short"].values()) + PUSHES * max(
        0, args.phones - figures["devices"])
    print(f"lost: photos not ready {not_ready} (of {figures['expected']}: "
          f"{dict(states)}), pushes not applied {unapplied} (of {args.phones * PUSHES}), "
          f"originals missing from the store or of another size {len(figures['missing'])}")
    for evidence_id, failure in figures["failed"][:10]:
        print(f"  failed: evidence {evidence_id}: {failure}")
    for name, n in list(figures["short"].items())[:10]:
        print(f"  {name}: {n} of {PUSHES} pushes applied")
    for row in figures["missing"][:10]:
        print(f"  not in the store as recorded: evidence {row[0]} ({row[2]})")
    return not_ready == 0 and unapplied == 0 and not figures["missing"]


# --- the run ----------------------------------------------------------------------------------

def run(args) -> int:
    say = progress(args.verbose)
    tmp = Path(tempfile.mkdtemp(prefix="mingcha-cluster-"))
    name, db_url = create_database(args.admin_url)
    services, kills, ok, met = {}, None, False, False
    own_names = _can_unshare()
    try:
        redis_port, s3_port, web_port, lb_port = (_free_port() for _ in range(4))
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        env = _env(tmp, db_url, redis_url)  # one SECRET_KEY for every host
        (tmp / "redis").mkdir()
        services["redis"] = redis_service(redis_port, redis_url, tmp, env)
        endpoint = f"http://{S3_HOST}:{s3_port}"
        services["moto"] = Service("moto", [
            str(BIN / "moto_server"), "-H", S3_HOST, "-p", str(s3_port)], tmp / "moto.log",
            env, ready=lambda: _answers(endpoint))
        services["redis"].start()
        services["moto"].start()
        s3 = s3_client(endpoint)
        s3.create_bucket(Bucket=BUCKET)
        media = f"s3://{BUCKET}/media?endpoint={endpoint}"
        say(f"scratch database {name}: init-db, demo (its files into the S3 store)")
        setup = host_env(env, tmp, "setup", media)
        _manage(setup, "init-db")
        _manage(setup, "demo")
        for host, address in WEB.items():
            services[host] = Service(host, on_host(host, [
                str(BIN / "gunicorn"), *GUNICORN, "--bind", f"{address}:{web_port}",
                "server:create_app()"], own_names), tmp / f"{host}.log",
                host_env(env, tmp, host, media),
                ready=lambda a=address: _answers(f"http://{a}:{web_port}/healthz"))
        for host in WORKERS:
            services[host] = Service(host, on_host(host, [
                sys.executable, "manage.py", "worker"], own_names), tmp / f"{host}.log",
                host_env(env, tmp, host, media))
        folder = tmp / "nginx"
        folder.mkdir()
        (folder / "nginx.conf").write_text(nginx_conf(folder, lb_port, web_port))
        base = f"http://127.0.0.1:{lb_port}"
        services["nginx"] = Service("nginx", [
            "nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"),
            "-e", str(folder / "error.log"), "-g", "daemon off;"], tmp / "nginx.log", env,
            ready=lambda: _answers(base + "/healthz"))
        for host in (*WEB, *WORKERS, "nginx"):
            services[host].start()
        say(f"serving on {base}: nginx before {', '.join(WEB.values())}; "
            f"{'own host names' if own_names else 'one host name (unshare refused)'}")
        if not args.no_kills:
            kills = Kills(services, db_url.replace("+psycopg", ""),
                          args.phones * PHOTOS // 2, say)
            kills.start()
        run_ = drive(args, base, db_url, tmp, services, say, READY_WAIT)
        if kills is not None:
            kills.done.set()
            kills.join()
            if kills.error:
                raise kills.error
        print(f"across hosts: web hosts A {WEB['web-a']} and B {WEB['web-b']} (gunicorn "
              f"{' '.join(GUNICORN)} each), worker hosts C and D (`manage.py worker` as "
              f"started by default, each), nginx on 127.0.0.1 (a consistent hash of the "
              f"upload id), S3 on moto; PostgreSQL and Redis shared; one {os.cpu_count()}"
              f"-core machine for all")
        met = report(args, run_.timings, run_.seen, run_.stats,
                     [tmp / f"{host}.log" for host in WORKERS],
                     [tmp / f"{host}.log" for host in WEB], retries_expected=kills is not None)
        after = cpu_now(services, run_.crowd)
        if kills is not None:  # what the killed processes had used, counted once
            for host, seconds in kills.cpu.items():
                after[host] += seconds
            after["load client"] -= kills.reaped
        cpu_report(run_.cpu[1], after, time.monotonic() - run_.cpu[0])
        figures = server_figures(db_url.replace("+psycopg", ""), s3, args.phones)
        balancer = balancer_figures(folder / "access.log", web_port)
        ok = print_lost(args, run_, figures, staging_left(tmp), balancer, kills, tmp)
        print("nothing lost" if ok else "SOMETHING WAS LOST")
    finally:
        if kills is not None:
            kills.done.set()
        for service in reversed(services.values()):
            service.stop()
        if args.keep or not ok:
            print(f"logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        drop_database(args.admin_url, name)
    return 0 if ok and met else 1


if __name__ == "__main__":
    print("run it as: .venv/bin/python bench/load_bench.py --hosts 2", file=sys.stderr)
    sys.exit(2)
