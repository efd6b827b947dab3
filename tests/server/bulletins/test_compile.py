"""`manage.py bulletin compile YYYY-MM`: a draft made and refreshed, the compiler's words
kept, a published bulletin never touched."""

import pytest
import sqlalchemy as sa

from server.audit.chain import verify
from server.bulletins.services import compile_draft, content_sha256, edit, publish
from server.errors import Problem
from server.extensions import db
from server.models import AuditEvent, Bulletin


def _bulletin():
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(sa.select(Bulletin))


def test_a_draft_is_compiled_with_its_sections_drafted(app, runner, november):
    result = runner.invoke(args=["bulletin", "compile", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "2 checks, 2 findings (1 major)" in result.output
    draft = _bulletin()
    assert (draft.month, draft.status) == ("2026-11", "draft")
    assert draft.title == "关于2026年11月份明察暗访情况的通报"
    assert draft.content["figures"]["headline"]["checks_covert"] == 1
    basics = draft.content["sections"]["基本情况"]
    assert "共开展明察暗访2次（明察1次、暗访1次）" in basics and "整改率50%" in basics
    assert draft.content["sections"]["存在问题"] == (
        "本月发现问题2个，涉及2个单位，按责任单位列示如下。")
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "bulletin_compiled"))
    assert event.detail == {"month": "2026-11", "edition": 1, "findings": 2}
    assert draft.content["number"] == "X住建督〔2026〕1号"
    assert verify(db.session).intact


def test_recompiling_refreshes_figures_and_keeps_the_compilers_words(app, runner, make,
                                                                     november):
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


def test_publishing_freezes_and_a_correction_is_a_new_edition(app, runner,
                                                              november):
    runner.invoke(args=["bulletin", "compile", "2026-11"])
    result = runner.invoke(args=["bulletin", "publish", "2026-11"])
    assert result.exit_code == 0, result.output
    first = _bulletin()
    assert first.status == "published" and first.published_at is not None
    assert first.content_sha256 == content_sha256(first.content) in result.output
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "bulletin_published"))
    assert event.detail["sha256"] == first.content_sha256
    assert event.detail["number"] == "X住建督〔2026〕1号"
    frozen = first.content

    # The world moves on; the published bulletin does not.
    november["major"].state = "dismissed"
    db.session.commit()
    again = runner.invoke(args=["bulletin", "compile", "2026-11"])
    assert again.exit_code == 1 and "不再改动" in again.output
    assert runner.invoke(args=["bulletin", "publish", "2026-11"]).exit_code == 1
    assert _bulletin().content == frozen

    result = runner.invoke(args=["bulletin", "compile", "2026-11", "--correction"])
    assert result.exit_code == 0, result.output
    db.session.commit()
    second, original = db.session.scalars(sa.select(Bulletin).order_by(
        Bulletin.edition.desc())).all()
    assert (second.edition, second.corrects_id, second.status) == (2, original.id, "draft")
    assert second.content["number"] == "X住建督〔2026〕2号"
    assert second.content["sections"] == frozen["sections"]
    assert second.content["figures"]["headline"]["findings"] == 1
    assert original.content == frozen
    assert content_sha256(original.content) == original.content_sha256
    assert verify(db.session).intact


def test_nothing_to_publish_says_what_to_do(app, runner):
    result = runner.invoke(args=["bulletin", "publish", "2026-11"])
    assert result.exit_code == 1 and "bulletin compile 2026-11" in result.output


def test_a_bad_month_is_refused_plainly(app, runner):
    for bad in ("2026-13", "202611", "11-2026", "<b>"):
        result = runner.invoke(args=["bulletin", "compile", bad])
        assert result.exit_code == 2 and "is not a month" in result.output
    assert _bulletin() is None


def test_the_compiler_edits_sections_and_number_of_a_draft_only(app, make, november):
    compiler = make.user("compiler")
    draft = compile_draft("2026-11", actor=compiler)
    edit(draft, {"整改要求": "<script>限期整改</script>"}, " X住建督〔2026〕11号 ", compiler)
    db.session.commit()
    draft = _bulletin()
    assert draft.content["sections"]["整改要求"] == "<script>限期整改</script>"  # text, as typed
    assert draft.content["number"] == "X住建督〔2026〕11号"
    for sections, number, field in (({"结语": "x"}, "1号", "sections.结语"),
                                    ({"基本情况": "长" * 20_001}, "1号", "sections.基本情况"),
                                    ({}, "  ", "number"), ({}, "号" * 65, "number")):
        with pytest.raises(Problem) as refused:
            edit(draft, sections, number, compiler)
        assert refused.value.status == 422
        assert [e["field"] for e in refused.value.errors] == [field]
    publish(draft, compiler)
    db.session.commit()
    with pytest.raises(Problem) as refused:
        edit(draft, {"整改要求": "改"}, "1号", compiler)
    assert refused.value.status == 409
