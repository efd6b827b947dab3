"""`manage.py bulletin compile YYYY-MM`: a draft made and refreshed, the compiler's words
kept, a published bulletin never touched."""

import sqlalchemy as sa

from server.audit.chain import verify
from server.extensions import db
from server.models import AuditEvent, Bulletin
from tests.server.bulletins.test_figures import november  # noqa: F401 (a fixture)


def _bulletin():
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(sa.select(Bulletin))


def test_a_draft_is_compiled_with_its_sections_drafted(app, runner, november):  # noqa: F811
    result = runner.invoke(args=["bulletin", "compile", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "2 checks, 2 findings (1 major)" in result.output
    draft = _bulletin()
    assert (draft.month, draft.status) == ("2026-11", "draft")
    assert draft.title == "关于2026年11月份明察暗访情况的通报"
    assert draft.content["figures"]["headline"]["checks_covert"] == 1
    basics = draft.content["sections"]["基本情况"]
    assert "共开展明察暗访2次（明察1次、暗访1次）" in basics and "整改率50%" in basics
    assert "恒天花园小巷路灯改造" in draft.content["sections"]["存在问题"]
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "bulletin_compiled"))
    assert event.detail == {"month": "2026-11", "findings": 2}
    assert verify(db.session).intact


def test_recompiling_refreshes_figures_and_keeps_the_compilers_words(app, runner, make,
                                                                     november):  # noqa: F811
    runner.invoke(args=["bulletin", "compile", "2026-11"])
    draft = _bulletin()
    draft.content = {**draft.content, "sections": {**draft.content["sections"],
                                                   "整改要求": "限期十日内整改到位。"}}
    db.session.commit()
    november["fixed"].state = "dismissed"  # a finding reconsidered
    db.session.commit()
    assert runner.invoke(args=["bulletin", "compile", "2026-11"]).exit_code == 0
    draft = _bulletin()
    assert draft.content["figures"]["headline"]["findings"] == 1
    assert draft.content["sections"]["整改要求"] == "限期十日内整改到位。"


def test_a_published_bulletin_is_never_recompiled(app, runner, november):  # noqa: F811
    runner.invoke(args=["bulletin", "compile", "2026-11"])
    draft = _bulletin()
    draft.status = "published"
    frozen = dict(draft.content)
    db.session.commit()
    result = runner.invoke(args=["bulletin", "compile", "2026-11"])
    assert result.exit_code == 1
    assert "never changes" in result.output
    assert _bulletin().content == frozen


def test_a_bad_month_is_refused_plainly(app, runner):
    for bad in ("2026-13", "202611", "11-2026", "<b>"):
        result = runner.invoke(args=["bulletin", "compile", bad])
        assert result.exit_code == 2 and "is not a month" in result.output
    assert _bulletin() is None
