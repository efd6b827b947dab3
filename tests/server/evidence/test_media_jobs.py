"""Media jobs on real Redis with a real rq worker: nothing is lost when Redis is down, and a
worker killed mid-job leads to a retry, never to evidence stuck in processing."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis import Redis

from server.extensions import db
from server.models import Evidence
from tests.conftest import REDIS_URL
from tests.server.evidence.test_evidence_pipeline import (
    _evidence,
    _evidence_mutation,
    _photo,
    _scenario,
    _upload,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def redis_app(app):
    Redis.from_url(REDIS_URL).flushdb()
    app.config.update(REDIS_URL=REDIS_URL, JOB_RETRY_INTERVALS=[0])
    yield app
    app.extensions.pop("redis", None)
    Redis.from_url(REDIS_URL).flushdb()


def _env(app) -> dict:
    return dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                REDIS_URL=REDIS_URL, SECRET_KEY="test", MEDIA_ROOT=app.config["MEDIA_ROOT"],
                UPLOAD_DIR=app.config["UPLOAD_DIR"], JOB_RETRY_INTERVALS="0",
                MINGCHA_INSTANCE=app.config["INSTANCE_DIR"])


def _video_mutation(check_id, data: bytes, evidence_id):
    import hashlib

    from tests.server.sync.conftest import mutation

    return mutation("evidence", evidence_id, {
        "check_id": str(check_id), "kind": "video", "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "filename": "VID_0001.3gp"})


def _worker(app):
    done = subprocess.run([sys.executable, "manage.py", "worker", "--burst", "--queue", "media"],
                          cwd=ROOT, env=_env(app), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _uploaded(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    _upload(up, data, evidence_id)
    return evidence_id


def test_with_redis_a_worker_makes_the_evidence_ready(redis_app, client, make, uploader):
    evidence_id = _uploaded(client, make, uploader)
    assert _evidence(evidence_id).state == "processing"  # queued, not yet run
    _worker(redis_app)
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready" and evidence.geofence == "inside"


def test_redis_down_at_upload_loses_nothing_and_the_sweeper_queues_it(
        redis_app, client, make, uploader, runner):
    redis_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    evidence_id = _uploaded(client, make, uploader)  # the upload itself still succeeds
    assert _evidence(evidence_id).state == "processing"
    redis_app.extensions.pop("redis", None)
    redis_app.config["REDIS_URL"] = REDIS_URL
    result = runner.invoke(args=["requeue"])
    assert result.exit_code == 0 and "queued 1" in result.output
    _worker(redis_app)
    assert _evidence(evidence_id).state == "ready"


def test_an_idle_worker_sweeps_every_sweep_seconds(redis_app, client, make, uploader):
    """Evidence left waiting while the worker has nothing to do (Redis was down when its
    upload ended) is picked up within a few SWEEP_SECONDS, not at rq's next wake-up."""
    import time

    from rq import Worker

    env = _env(redis_app) | {"SWEEP_SECONDS": "2"}
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--processes", "1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        redis = Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + 60
        while not any(w.get_state() == "idle" for w in Worker.all(connection=redis)):
            assert time.monotonic() < deadline and worker.poll() is None, "no idle worker"
            time.sleep(0.2)
        redis_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # down at the upload
        evidence_id = _uploaded(client, make, uploader)
        redis_app.extensions.pop("redis", None)
        redis_app.config["REDIS_URL"] = REDIS_URL
        deadline = time.monotonic() + 30
        while _evidence(evidence_id).state != "ready" and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.5)
        assert _evidence(evidence_id).state == "ready"
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=60)
    assert "Traceback" not in err, err[-3000:]


def _kill_worker_when_ffmpeg_runs(worker_pid: int, deadline_s=120) -> bool:
    """SIGKILL the worker process running the job (ffmpeg's parent) while it transcodes,
    as the OOM killer would; ffmpeg goes too. Only an ffmpeg of ``worker_pid``'s: other
    tests run theirs at the same time."""
    import signal
    import time

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        found = subprocess.run(["pgrep", "-f", "ffmpeg .*mingcha-media-"], capture_output=True,
                               text=True).stdout.split()
        for pid in found:
            try:
                parent = _parent(int(pid))
                if worker_pid not in (parent, _parent(parent)):
                    continue
                os.kill(parent, signal.SIGKILL)
                os.kill(int(pid), signal.SIGKILL)
                return True
            except (OSError, ValueError, IndexError):
                continue
        time.sleep(0.02)
    return False


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_worker_killed_mid_job_retries_it(redis_app, client, make, uploader, tmp_path):
    from tests.media.avfiles import ffmpeg

    user, check, up, phone = _scenario(client, make, uploader)
    video = tmp_path / "long.3gp"  # long enough to be caught mid-transcode
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=352x288:rate=25:duration=40", "-c:v", "h263",
           video)
    data, evidence_id = video.read_bytes(), uuid.uuid4()
    phone.push_one(_video_mutation(check.id, data, evidence_id))
    # A retry interval the test would not wait for: the job's process died, not the job,
    # so it is retried at once.
    redis_app.config["JOB_RETRY_INTERVALS"] = [600]
    _upload(up, data, evidence_id)
    env = _env(redis_app)
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--burst", "--queue",
                               "media"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert _kill_worker_when_ffmpeg_runs(worker.pid), "the job never reached ffmpeg"
        _out, err = worker.communicate(timeout=300)
    finally:
        worker.kill()
    # One worker process on SQLite: the kill ended `manage.py worker` itself, and systemd
    # would start it again. With several, `manage.py worker` started the killed one again
    # and it retried the job before the burst ended; this start then finds nothing to do.
    again = _worker(redis_app)
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready", (evidence.state, evidence.failure, err[-2000:],
                                       again.stderr[-2000:])
    assert "preview.mp4" in evidence.derivatives


def test_a_job_whose_worker_host_stays_dead_is_retried_by_any_sweep(redis_app, client, make,
                                                                     uploader, tmp_path):
    """A worker host that dies and does not come back: its job counts as running only
    until three of its heartbeats are missed; then the sweep any worker runs retries it."""
    import time

    from server import jobs
    from server.evidence.jobs import job_id, requeue
    from tests.media.avfiles import ffmpeg

    user, check, up, phone = _scenario(client, make, uploader)
    video = tmp_path / "long.3gp"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=352x288:rate=25:duration=40", "-c:v", "h263",
           video)
    data, evidence_id = video.read_bytes(), uuid.uuid4()
    phone.push_one(_video_mutation(check.id, data, evidence_id))
    _upload(up, data, evidence_id)
    # One process, which the kill ends: nothing of that host starts again.
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--burst", "--queue",
                               "media", "--processes", "1"], cwd=ROOT, env=_env(redis_app) | {
                                   "JOB_HEARTBEAT_SECONDS": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _kill_worker_when_ffmpeg_runs(worker.pid), "the job never reached ffmpeg"
        worker.wait(timeout=60)
    finally:
        worker.kill()
    assert jobs.status(job_id(evidence_id)) == "started"  # as far as rq knows, it runs
    time.sleep(3.5)  # three beats of 1 s missed
    requeue()  # the sweep, as any worker of any host runs it
    assert jobs.status(job_id(evidence_id)) == "queued"
    _worker(redis_app)
    assert _evidence(evidence_id).state == "ready"


def test_evidence_whose_every_attempt_failed_is_failed_not_stuck(redis_app, make, runner):
    check = make.check(make.user("supervisor"), make.site())
    evidence = make.evidence(check)
    evidence.state, evidence.storage_key = "processing", "originals/aa/bb/missing"
    db.session.commit()
    redis_app.config["JOB_RETRY_INTERVALS"] = [0]
    runner.invoke(args=["requeue"])
    _worker(redis_app)  # the original is missing: every attempt raises
    runner.invoke(args=["requeue"])
    evidence = _evidence(evidence.id)
    assert evidence.state == "failed" and "every attempt" in evidence.failure


def test_without_redis_requeue_runs_waiting_evidence_here(app, make, runner):
    check = make.check(make.user("supervisor"), make.site())
    evidence = make.evidence(check)
    evidence.state, evidence.storage_key = "processing", "originals/aa/bb/missing"
    db.session.commit()
    result = runner.invoke(args=["requeue"])
    assert result.exit_code == 0 and "queued 0" in result.output
    assert db.session.get(Evidence, evidence.id).state == "processing"  # logged, kept


def test_the_sweep_removes_scratch_folders_that_killed_jobs_left(app):
    import os
    import tempfile
    import time
    from pathlib import Path

    from server.evidence.jobs import JOB_TIMEOUT, requeue
    from server.evidence.pipeline import SCRATCH

    stale = Path(tempfile.mkdtemp(prefix=SCRATCH))
    (stale / "original").write_bytes(b"x" * 1000)
    long_ago = time.time() - JOB_TIMEOUT - 3600
    os.utime(stale, (long_ago, long_ago))
    running = Path(tempfile.mkdtemp(prefix=SCRATCH))  # a job working now
    requeue()
    assert not stale.exists() and running.exists()
    running.rmdir()
