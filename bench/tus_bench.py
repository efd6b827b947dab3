"""tus benchmark: a 1 GiB upload over loopback to Mingcha (gunicorn, PostgreSQL) and to the
official tus Node server (@tus/server + @tus/file-store), in the same run, by the same
Python client, with the servers' memory sampled while the bytes arrive.

    .venv/bin/python bench/tus_bench.py [--size-mib 1024] [--runs 3] [--chunk-mib 0]
        [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--verbose]

Targets: throughput mingcha / node >= 1.0 in every run (issue b, issue 14), Mingcha's
median >= 0.7x a raw streaming PUT of the same bytes to the same gunicorn set-up in the
same run (bench/raw_put.py: no protocol, no database; issue 14), and Mingcha's memory
stays flat.
Both servers store in one temporary directory; Mingcha also checks the sha256 and
fsyncs, the Node FileStore does neither; the raw PUT fsyncs. Prints the medians, each
run, the ratios and the memory; with --verbose also the progress and the servers' logs.
"""

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / "tus-node"
sys.path.insert(0, str(ROOT))

from scratch_db import (  # noqa: E402  (bench/ is on the path)
    create_database,
    drop_database,
    migrate_and_add_a_site,
)
from verbosity import log_levels, progress  # noqa: E402

from sync.tus import encode_metadata  # noqa: E402

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _prepare(env: dict, runs: int, sha256: str, size: int) -> list[tuple[str, str]]:
    """Migrate the bench database; an inspector, a site, a check and one video evidence
    record per run, as a phone syncs them before it uploads. Returns (evidence, check)."""
    from server import create_app
    from server.extensions import db
    from server.models import Check, Evidence
    from server.registry.services import create_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": "bench",
                      "MEDIA_ROOT": env["MEDIA_ROOT"], "UPLOAD_DIR": env["UPLOAD_DIR"],
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024})
    with app.app_context():
        site = migrate_and_add_a_site()
        user = create_user("inspector", "inspector", "bench-password")
        db.session.flush()
        check = Check(site_id=site.id, mode="covert", started_at=db.func.now(),
                      notes="上下班签到检查", created_by=user.id)
        db.session.add(check)
        db.session.flush()
        evidence = [Evidence(check_id=check.id, kind="video", sha256=sha256, size=size,
                             filename="VID_0001.mp4", created_by=user.id) for _ in range(runs)]
        db.session.add_all(evidence)
        db.session.commit()
        return [(str(e.id), str(check.id)) for e in evidence]


def _random_file(path: Path, size: int) -> str:
    """Write size random bytes in 1 MiB blocks; return their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            digest.update(block)
            f.write(block)
    return digest.hexdigest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server in its own process group, with its output in a log file."""

    def __init__(self, name: str, cmd: list, log: Path, env=None, cwd=None):
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                         env=env, start_new_session=True)

    def wait_ready(self, url: str, seconds: float = 30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.options(url, headers=TUS, timeout=2).status_code < 300:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                return
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(wait)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue

    def print_log(self):
        """The server's output (with --verbose), on stderr."""
        with contextlib.suppress(OSError):  # it did not start
            text = self.log.read_text(errors="replace")
            print(f"--- {self.name} ({self.log.name}) ---\n{text.rstrip()}", file=sys.stderr)


def _tree(pid: int) -> list[int]:
    """pid and its descendants (gunicorn's master and its workers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the process just ended
                todo.extend(int(c) for c in task.read_text().split())
    return found


def _pss_kib(pid: int) -> int:
    """The process's proportional set size: each page shared with others counted as its
    share. gunicorn --preload forks its workers from a master that holds the app, and
    their RSS would count those pages once per process."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # the process just ended
        pass
    return 0


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all their threads) so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class MemorySampler(threading.Thread):
    """Sample the PSS of a process tree every 50 ms: peak of the sum, of one process;
    and the CPU time the tree spent meanwhile."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.before = self._sample()[0]
        self.peak_total, self.peak_one = self.before, 0
        self.cpu = -_cpu_seconds(_tree(pid))

    def _sample(self) -> tuple[int, int]:
        sizes = [_pss_kib(p) for p in _tree(self.pid)]
        return sum(sizes), max(sizes)

    def run(self):
        while not self.done.wait(0.05):
            total, one = self._sample()
            self.peak_total, self.peak_one = max(self.peak_total, total), max(self.peak_one, one)

    def stop(self):
        self.done.set()
        self.join()
        self.cpu += _cpu_seconds(_tree(self.pid))


def _blocks(path: Path, start: int, length: int):
    """The file's bytes [start, start + length) in 1 MiB reads: the client holds no chunk."""
    with open(path, "rb") as f:
        f.seek(start)
        while length > 0:
            block = f.read(min(MIB, length))
            if not block:
                return
            length -= len(block)
            yield block


def upload(http: httpx.Client, collection: str, path: Path, size: int, chunk: int,
           metadata: dict) -> float:
    """Create, PATCH from offset 0 in pieces of ``chunk`` (0: the whole file), HEAD; seconds."""
    started = time.perf_counter()
    created = http.post(collection, headers=TUS | {
        "Upload-Length": str(size), "Upload-Metadata": encode_metadata(metadata)})
    assert created.status_code == 201, created.text
    location, offset = created.headers["Location"], 0
    while offset < size:
        length = min(chunk or size, size - offset)
        answer = http.patch(location, content=_blocks(path, offset, length), headers=TUS | {
            "Upload-Offset": str(offset), "Content-Length": str(length),
            "Content-Type": "application/offset+octet-stream"})
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
    seconds = time.perf_counter() - started
    head = http.head(location, headers=TUS)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(size), \
        dict(head.headers)
    return seconds


def put(http: httpx.Client, url: str, path: Path, size: int) -> float:
    """One streaming PUT of the whole file; seconds."""
    started = time.perf_counter()
    answer = http.put(url, content=_blocks(path, 0, size), headers={
        "Content-Length": str(size), "Content-Type": "application/octet-stream"})
    assert answer.status_code == 204, answer.text
    return time.perf_counter() - started


def measure(server: Server, send) -> dict:
    """One upload (``send()``: its seconds) with the server's memory sampled; written
    data flushed first."""
    os.sync()  # the last run's dirty pages must not slow this one
    sampler = MemorySampler(server.proc.pid)
    sampler.start()
    try:
        seconds = send()
    finally:
        sampler.stop()
    return {"seconds": seconds, "before": sampler.before, "cpu": sampler.cpu,
            "peak": sampler.peak_total, "peak_one": sampler.peak_one}


def _start_mingcha(tmp: Path, env: dict, say) -> tuple[Server, str]:
    port = _free_port()
    say(f"starting mingcha (gunicorn) on 127.0.0.1:{port}")
    server = Server("mingcha", [
        sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
        "--preload", "-b", f"127.0.0.1:{port}", "server:create_app()"], tmp / "gunicorn.log",
        env=os.environ | env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    server.wait_ready(base + "/api/v1/uploads")
    return server, base


def _start_raw(tmp: Path, say) -> tuple[Server, str, Path]:
    port, store = _free_port(), tmp / "raw-store"
    say(f"starting the raw PUT app (gunicorn) on 127.0.0.1:{port}")
    store.mkdir()
    server = Server("raw", [
        sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
        "--preload", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"), "raw_put:app"],
        tmp / "raw.log", env=os.environ | {"RAW_PUT_DIR": str(store)}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    server.wait_ready(base + "/probe")
    return server, base, store


def _start_node(tmp: Path, say, verbose: bool) -> tuple[Server, str, Path]:
    if not (NODE_DIR / "node_modules").is_dir():
        say("npm ci in bench/tus-node")
        npm = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
                             stdout=sys.stderr if verbose else subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if npm.returncode:
            raise RuntimeError(f"npm ci failed ({npm.returncode}):\n{npm.stdout or ''}")
    port, store = _free_port(), tmp / "node-store"
    say(f"starting the tus node server on 127.0.0.1:{port}")
    store.mkdir()
    server = Server("node", ["node", str(NODE_DIR / "server.mjs"), str(port), str(store)],
                    tmp / "node.log")
    base = f"http://127.0.0.1:{port}"
    server.wait_ready(base + "/files")
    return server, base, store


def _sign_in(base: str) -> dict:
    """The bearer header of the inspector's phone."""
    answer = httpx.post(base + "/api/v1/auth/device", json={
        "username": "inspector", "password": "bench-password", "device_name": "bench"})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _clear(*folders: Path):
    """Drop the stored copies of the last run (originals are read-only files)."""
    for folder in folders:
        for item in folder.iterdir():
            shutil.rmtree(item) if item.is_dir() else item.unlink()


def _mib(kib: int) -> str:
    return f"{kib / 1024:7.1f} MiB"


def _speeds(runs: list[dict], size: int) -> list[float]:
    return [size / MIB / r["seconds"] for r in runs]


def _line(name: str, runs: list[dict], size: int) -> float:
    speeds = _speeds(runs, size)
    cpu = statistics.median(r["cpu"] for r in runs) * 1024 * MIB / size
    each = " ".join(f"{v:.0f}" for v in speeds)
    print(f"{name:<31}{statistics.median(speeds):8.1f} MiB/s (runs {each}); server CPU "
          f"{cpu:5.2f} s per GiB")
    return statistics.median(speeds)


def _memory(name: str, runs: list[dict], what: str):
    peak = max(r["peak"] for r in runs)
    growth = max(r["peak"] - r["before"] for r in runs)
    print(f"{name:<8} peak PSS {_mib(peak)} ({what}; largest process "
          f"{_mib(max(r['peak_one'] for r in runs))}), growth during upload {_mib(growth)}")


def report(size: int, chunk: int, runs: dict) -> bool:
    """The figures, each run's too; whether the targets were met."""
    pieces = "one PATCH of the whole file" if not chunk else f"PATCHes of {chunk // MIB} MiB"
    print(f"file {size / MIB:.0f} MiB of random bytes over loopback, {pieces} streamed in "
          f"1 MiB reads; median of {len(runs['ours'])} runs, the servers taking turns")
    ours = _line("mingcha (gunicorn gthread 2x4)", runs["ours"], size)
    node = _line("tus node (@tus/server 2.4.5)", runs["node"], size)
    print(f"ratio mingcha/node, medians {ours / node:5.2f}")
    raw = _line("raw PUT (gunicorn gthread 2x4)", runs["raw"], size)
    # Each run of ours against the other servers' runs of the same turn: in every turn,
    # not only in the median (issue 14).
    pairs = [x / y for x, y in zip(_speeds(runs["ours"], size), _speeds(runs["node"], size),
                                   strict=True)]
    every = min(pairs) >= 1.0
    print(f"ratio mingcha/node in each run {' '.join(f'{p:.2f}' for p in pairs)}  (target "
          f">= 1.0 in every run)  {'ok' if every else 'UNDER TARGET'}")
    print(f"ratio mingcha/raw PUT, medians {ours / raw:5.2f}  (target >= 0.7)  "
          f"{'ok' if ours / raw >= 0.7 else 'UNDER TARGET'}")
    _memory("mingcha", runs["ours"], "master + 2 workers")
    _memory("node", runs["node"], "one process")
    return every and ours / raw >= 0.7


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk-mib", type=int, default=0, help="0: one PATCH of the whole "
                        "file, as tus-js-client and tuspy do by default")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="an empty Redis database: media jobs are queued there, never "
                        "run, and flushed at the end")
    parser.add_argument("--verbose", action="store_true", help="also each run's figures, "
                        "the progress and both servers' logs")
    return parser.parse_args()


def _take_turns(args, tmp: Path, env: dict, source: Path, metadata: list[dict]) -> dict:
    """The servers up; an untimed upload to each to warm it, then the runs, taking turns."""
    size, chunk = args.size_mib * MIB, args.chunk_mib * MIB
    say = progress(args.verbose)
    servers, runs = [], {"ours": [], "node": [], "raw": []}
    try:
        node, node_base, store = _start_node(tmp, say, args.verbose)
        servers.append(node)
        raw, raw_base, raw_store = _start_raw(tmp, say)
        servers.append(raw)
        ours, ours_base = _start_mingcha(tmp, env, say)
        servers.append(ours)
        with (httpx.Client(base_url=node_base, timeout=600) as to_node,
              httpx.Client(base_url=raw_base, timeout=600) as to_raw,
              httpx.Client(base_url=ours_base, timeout=600,
                           headers=_sign_in(ours_base)) as to_ours):
            for n, meta in enumerate(metadata):
                turn = {
                    "node": measure(node, lambda m=meta: upload(
                        to_node, "/files", source, size, chunk, m)),
                    "raw": measure(raw, lambda n=n: put(to_raw, f"/run{n}", source, size)),
                    "ours": measure(ours, lambda m=meta: upload(
                        to_ours, "/api/v1/uploads", source, size, chunk, m))}
                say(f"run {n}{' (warm-up, not counted)' if not n else ''}: " + ", ".join(
                    f"{name} {size / MIB / r['seconds']:.0f} MiB/s" for name, r in turn.items()))
                if n:  # the first of each was the warm-up
                    for name, result in turn.items():
                        runs[name].append(result)
                _clear(store, raw_store, tmp / "media")
    finally:
        for server in servers:
            server.stop()
            if args.verbose:
                server.print_log()
    return runs


def run(args, tmp: Path, db_url: str) -> bool:
    size = args.size_mib * MIB
    say = progress(args.verbose)
    source = tmp / "source.bin"
    say(f"writing {args.size_mib} MiB of random bytes")
    sha256 = _random_file(source, size)
    # With --verbose the server's log has its line per request (three per upload).
    env = {"DATABASE_URL": db_url, "MEDIA_ROOT": str(tmp / "media"),
           "UPLOAD_DIR": str(tmp / "uploads"), "SECRET_KEY": "bench",
           "REDIS_URL": args.redis_url, "TUS_MAX_SIZE": str(max(size, 2 * 1024 * MIB)),
           "LOG_LEVEL": "INFO" if args.verbose else "WARNING"}
    say(f"scratch database: migrating, an inspector, a check, {1 + args.runs} evidence records")
    metadata = [{"evidence_id": evidence_id, "check_id": check_id, "kind": "video",
                 "filename": "VID_0001.mp4", "sha256": sha256}
                for evidence_id, check_id in _prepare(env, 1 + args.runs, sha256, size)]
    return report(size, args.chunk_mib * MIB, _take_turns(args, tmp, env, source, metadata))


def main():
    args = _parse()
    log_levels(args.verbose)
    jobs = redis.Redis.from_url(args.redis_url)
    if jobs.dbsize():
        sys.exit(f"{args.redis_url} is not empty; the bench flushes it, so give it an empty one")
    name, db_url = create_database(args.admin_url)
    tmp = Path(tempfile.mkdtemp(prefix="tus-bench-"))
    try:
        met = run(args, tmp, db_url)
    finally:
        jobs.flushdb()
        drop_database(args.admin_url, name)
        shutil.rmtree(tmp, ignore_errors=True)
    print("all targets met" if met else "targets missed")


if __name__ == "__main__":
    main()
