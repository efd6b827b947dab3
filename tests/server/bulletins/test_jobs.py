"""The bulletin's jobs: files made with their progress and the content they were made of;
a failure kept in words; last month's draft made once by the sweep."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis

from server.bulletins import jobs
from server.bulletins.services import compile_draft, edit
from server.evidence.storage import storage
from server.extensions import db
from server.models import Bulletin
from server.zone import bureau_today
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[3]


def test_files_are_made_of_the_content_and_go_stale_when_it_changes(app, make, november):
    draft = compile_draft("2026-11")
    db.session.commit()
    assert jobs.queue_render(draft) == "ran"  # no Redis: in-process
    db.session.refresh(draft)
    assert draft.renders["state"] == "done" and draft.renders["progress"] == 100
    assert jobs.fresh(draft)
    for kind, key in draft.renders["files"].items():
        assert storage().exists(key) and key.endswith(f"bulletin-2026-11.{kind}")
    edit(draft, {"整改要求": "限期整改"}, "X住建督〔2026〕3号", make.user("compiler"))
    db.session.commit()
    assert not jobs.fresh(draft)  # the files no longer say what the draft says


def test_a_failed_render_says_why(app, november):
    draft = compile_draft("2026-11")
    draft.content = {**draft.content, "figures": {}}  # broken: no figures to lay out
    db.session.commit()
    with pytest.raises(KeyError):
        jobs.render_bulletin(str(draft.id))
    db.session.expire_all()
    failed = db.session.get(Bulletin, draft.id)
    assert failed.renders["state"] == "failed" and "problems" in failed.renders["error"]


def test_the_sweep_drafts_last_month_once(app):
    last = (bureau_today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    made = jobs.draft_last_month()
    db.session.commit()
    assert made is not None and made.month == last and made.status == "draft"
    assert jobs.draft_last_month() is None
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bulletin)) == 1


def test_with_redis_a_worker_makes_the_files(app, november):
    """As deployed: the page queues the job on Redis, a worker on another process makes
    the files into the shared media store."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    app.config["REDIS_URL"] = REDIS_URL
    try:
        draft = compile_draft("2026-11")
        db.session.commit()
        assert jobs.queue_render(draft) == "queued"
        assert draft.renders["state"] == "queued"
        env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   REDIS_URL=REDIS_URL, SECRET_KEY="test", MEDIA_ROOT=app.config["MEDIA_ROOT"],
                   MINGCHA_INSTANCE=app.config["INSTANCE_DIR"])
        done = subprocess.run([sys.executable, "manage.py", "worker", "--burst", "--queue",
                               "bulletins"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, done.stderr
        db.session.rollback()  # a new snapshot: what the worker committed
        db.session.expire_all()
        made = db.session.get(Bulletin, draft.id)
        assert made.renders["state"] == "done" and jobs.fresh(made)
        with storage().open(made.renders["files"]["pdf"]) as pdf:
            assert pdf.read(5) == b"%PDF-"
    finally:
        app.extensions.pop("redis", None)
        redis.flushdb()
