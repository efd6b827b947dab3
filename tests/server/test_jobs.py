"""Jobs: in-process without Redis; through real Redis and a real rq worker with it."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis

from server import jobs
from server.auth.services import purge_login_failures
from server.extensions import db
from server.models import LoginFailure, utcnow
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def _stale_failure():
    db.session.add(LoginFailure(key="user:old", count=2, last_at=utcnow() - timedelta(hours=2)))
    db.session.add(LoginFailure(key="user:now", count=1, last_at=utcnow()))
    db.session.commit()


def _keys():
    db.session.rollback()  # a new snapshot: see what the worker committed
    return set(db.session.scalars(db.select(LoginFailure.key)))


@pytest.fixture
def redis_app(app):
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    app.config["REDIS_URL"] = REDIS_URL
    yield app
    app.extensions.pop("redis", None)
    redis.flushdb()


def test_without_redis_jobs_run_in_process(app):
    _stale_failure()
    assert jobs.enqueue("default", purge_login_failures, job_id="t:purge") == "ran"
    assert _keys() == {"user:now"}


def test_unknown_queue_is_refused(app):
    with pytest.raises(ValueError):
        jobs.queue("email")


def test_with_redis_a_worker_runs_the_job_inside_the_app(redis_app, backend):
    _stale_failure()
    assert jobs.enqueue("default", purge_login_failures, job_id="t:purge") == "queued"
    assert jobs.enqueue("default", purge_login_failures, job_id="t:purge") == "already queued"
    assert _keys() == {"user:old", "user:now"}  # queued, not yet run

    env = dict(os.environ, DATABASE_URL=redis_app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=REDIS_URL, SECRET_KEY="test", MINGCHA_INSTANCE=redis_app.config[
                   "INSTANCE_DIR"])
    done = subprocess.run([sys.executable, "manage.py", "worker", "--burst", "--queue",
                           "default"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert _keys() == {"user:now"}, done.stderr + done.stdout
    assert len(jobs.queue("default")) == 0


def test_sigterm_during_a_sweep_stops_the_worker(redis_app, monkeypatch):
    """rq's SIGTERM handler raises StopRequested when no job runs. Landing in the sweep
    (slow when the database is busy), it was taken for a failed sweep and the worker
    went on working until killed; now it stops, before or inside rq's loop."""
    from rq.exceptions import StopRequested

    from server import worker

    def interrupted(*_args):
        raise StopRequested()

    monkeypatch.setattr(worker, "escalate", interrupted)
    with pytest.raises(StopRequested):
        worker.sweep(redis_app)
    assert worker.run(redis_app, ["default"]) is False  # its first sweep, at start


def test_health_reports_redis_when_configured(redis_app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_is_503_when_redis_is_down(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "down" and response.json["database"] == "ok"


def test_health_without_redis_says_disabled(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "disabled"}


def test_a_worker_outlives_redis_going_away_and_coming_back(app, tmp_path):
    """A worker started while its Redis is down waits instead of ending (rq's own ends
    in about a second), outlives Redis stopping again, and then runs what is queued."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis():
        subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--daemonize", "yes",
                        "--dir", str(tmp_path)], check=True, capture_output=True)
        for _ in range(50):
            try:
                return Redis.from_url(url).ping()
            except Exception:  # not listening yet
                time.sleep(0.1)

    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=url,
               SECRET_KEY="test", MINGCHA_INSTANCE=app.config["INSTANCE_DIR"])
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--queue", "default"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)  # no Redis yet
        assert worker.poll() is None, "the worker ended without Redis"
        start_redis()
        time.sleep(3)  # it has started and waits for jobs
        Redis.from_url(url).shutdown(nosave=True)
        time.sleep(3)
        assert worker.poll() is None, "the worker ended with Redis"
        start_redis()
        _stale_failure()
        app.config["REDIS_URL"] = url
        app.extensions.pop("redis", None)
        assert jobs.enqueue("default", purge_login_failures, job_id="t:purge") == "queued"
        for _ in range(200):
            if _keys() == {"user:now"}:
                break
            time.sleep(0.2)
        assert _keys() == {"user:now"}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.extensions.pop("redis", None)
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                       capture_output=True)


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):  # the thread ended since the glob saw it
            found |= {int(child) for child in task.read_text().split()}
    return found


def _wait_for(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_worker_keeps_its_processes_and_stops_them_on_sigterm(redis_app):
    from rq import Worker

    env = dict(os.environ, DATABASE_URL=redis_app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=REDIS_URL, SECRET_KEY="test",
               MINGCHA_INSTANCE=redis_app.config["INSTANCE_DIR"])
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--processes", "3",
                               "--queue", "default"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    connection = Redis.from_url(REDIS_URL)

    def registered() -> set[int]:  # rq workers of ours that Redis knows and that live
        return {w.pid for w in Worker.all(connection=connection)} & _children(worker.pid)

    try:
        _wait_for(lambda: len(registered()) == 3)
        first = registered()
        lost = sorted(first)[0]
        os.killpg(lost, signal.SIGKILL)  # it and its rq scheduler; the OOM killer, say
        _wait_for(lambda: len(registered()) == 3 and lost not in registered())
        assert len(registered() & first) == 2  # the others went on
        # A job still runs: the replaced process took its place on the queue.
        _stale_failure()
        assert jobs.enqueue("default", purge_login_failures, job_id="t:purge") == "queued"
        _wait_for(lambda: _keys() == {"user:now"})
        children = _children(worker.pid)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_worker_host_runs_a_process_more_than_its_cores(app):
    from server import worker

    # While one process's job waits for the disk or the database, the one more keeps the
    # cores busy; on SQLite, with its one writer, one process.
    cores = len(os.sched_getaffinity(0))
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert worker.processes_by_default(app) == (1 if sqlite else cores + 1)


def test_worker_processes_end_when_their_parent_is_killed(redis_app):
    env = dict(os.environ, DATABASE_URL=redis_app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=REDIS_URL, SECRET_KEY="test",
               MINGCHA_INSTANCE=redis_app.config["INSTANCE_DIR"])
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--processes", "2",
                               "--queue", "default"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(_children(worker.pid)) == 2)
        children = _children(worker.pid)
        time.sleep(2)  # past their start
    finally:
        worker.kill()  # -9: it cannot pass anything on
        worker.wait()

    def gone() -> bool:  # ended, or a zombie waiting for init to reap it
        return all(not Path(f"/proc/{pid}").exists()
                   or " Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
                   for pid in children)
    _wait_for(gone)
