"""The bulletin's jobs: files made with their progress and the content they were made of;
a failure kept in words; last month's draft made once by the sweep."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.bulletins import jobs
from server.bulletins.services import compile_draft, edit
from server.cases.states import bureau_today
from server.evidence.storage import storage
from server.extensions import db
from server.models import Bulletin


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
