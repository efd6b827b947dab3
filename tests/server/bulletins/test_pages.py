"""The bulletin at the desk, and attacks on it: the compiler compiles, edits, publishes and
downloads; units, reviewers and inspectors read only what is published (a unit its own
problems marked, its own score, the PDF only); drafts are nobody else's; forged posts,
guessed ids, other roles and markup change nothing."""

import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Bulletin
from tests.server.desk.conftest import Browser


@pytest.fixture
def desk(app):
    return lambda user: Browser(app, user)


def _bulletin():
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(sa.select(Bulletin))


def _published(desk, compiler):
    lead = desk(compiler)
    lead.post("/bulletins/compile", {"month": "2026-11"})
    draft = _bulletin()
    lead.post(f"/bulletins/{draft.id}/publish")
    return lead, _bulletin()


def test_the_compiler_compiles_edits_publishes_and_downloads(app, make, desk,
                                                             november):
    lead = desk(make.user("compiler"))
    page = lead.page("/bulletins")
    assert 'name="month"' in page
    response = lead.post("/bulletins/compile", {"month": "2026-11"})
    draft = _bulletin()
    assert response.headers["Location"].endswith(f"/bulletins/{draft.id}")
    page = lead.page(f"/bulletins/{draft.id}")
    assert "关于2026年11月份明察暗访情况的通报" in page and "50.0%" in page
    lead.post(f"/bulletins/{draft.id}/edit", {
        "number": "X住建督〔2026〕11号", "整改要求": "<b>限期十日内整改到位</b>"})
    page = lead.page(f"/bulletins/{draft.id}")
    assert "&lt;b&gt;限期十日内整改到位&lt;/b&gt;" in page  # text, never markup
    lead.post(f"/bulletins/{draft.id}/publish")
    published = _bulletin()
    assert published.status == "published" and published.content["number"] == "X住建督〔2026〕11号"
    # No Redis in the tests: the files were made at once, in-process.
    assert published.renders["state"] == "done"
    for kind, mime in (("pdf", "application/pdf"), ("xlsx", "spreadsheetml"),
                       ("docx", "wordprocessingml")):
        got = lead.get(f"/bulletins/{published.id}/files/{kind}")
        assert mime in got.mimetype and len(got.data) > 1000
        assert f'filename="bulletin-2026-11.{kind}"' in got.headers["Content-Disposition"]
    assert lead.get(f"/bulletins/{published.id}/progress").json == {
        "state": "done", "progress": 100, "fresh": True}


def test_units_read_published_bulletins_their_own_problems_marked(app, make, desk,
                                                                 november):
    contact = make.user("unit", unit=november["b"])
    reader = desk(contact)
    lead = desk(make.user("compiler"))
    lead.post("/bulletins/compile", {"month": "2026-11"})
    draft = _bulletin()
    reader.get(f"/bulletins/{draft.id}", status=404)  # a draft is the compiler's alone
    assert draft.title not in reader.page("/bulletins")
    lead.post(f"/bulletins/{draft.id}/publish")
    page = reader.page(f"/bulletins/{draft.id}")
    assert '<tr class="mine">' in page and page.count('class="mine"') == 1
    assert november["plan"].title not in page
    assert page.count("<td>93.0</td>") == 1 and "<td>99.0</td>" not in page  # its own score
    reader.get(f"/bulletins/{draft.id}/files/pdf")
    for kind in ("docx", "xlsx", "exe"):
        reader.get(f"/bulletins/{draft.id}/files/{kind}", status=404)
    scores = reader.page("/scores?month=2026-11")
    assert "路灯管理所" in scores and "建筑业管理科" not in scores


@pytest.mark.parametrize("role", ["unit", "reviewer", "inspector", "supervisor", "admin"])
def test_no_one_but_the_compiler_compiles_edits_or_publishes(app, make, desk, november,
                                                             role):
    lead = desk(make.user("compiler"))
    lead.post("/bulletins/compile", {"month": "2026-11"})
    draft = _bulletin()
    other = desk(make.user(role, unit=november["a"] if role == "unit" else None))
    other.post("/bulletins/compile", {"month": "2026-10"}, status=403)
    for action in ("edit", "publish", "render"):
        other.post(f"/bulletins/{draft.id}/{action}", {"number": "1号"}, status=403)
    other.post("/scores", {"month": "2026-11", "general": 9, "major": 9, "overdue": 9},
               status=403)
    assert _bulletin().status == "draft" and _bulletin().content == draft.content


def test_forged_and_broken_posts_change_nothing(app, make, desk, november):
    lead = desk(make.user("compiler"))
    lead.post("/bulletins/compile", {"month": "2026-11"}, csrf=False, status=400)
    assert _bulletin() is None
    for month in ("2026-13", "x", "", "<script>"):
        lead.post("/bulletins/compile", {"month": month})
    assert _bulletin() is None
    lead.post("/bulletins/compile", {"month": "2026-11"})
    draft = _bulletin()
    lead.post(f"/bulletins/{draft.id}/publish", csrf=False, status=400)
    lead.post(f"/bulletins/{draft.id}/edit", {"number": ""})  # refused in words
    lead.post(f"/bulletins/{draft.id}/edit", {"number": "号" * 200})
    assert _bulletin().content["number"] == "X住建督〔2026〕1号"
    for guess in (uuid.uuid4(), "x", "../1"):
        lead.get(f"/bulletins/{guess}", status=404)
        lead.post(f"/bulletins/{guess}/publish", status=404)
    lead.post("/scores", {"month": "2026-11", "general": "-1", "major": "x", "overdue": ""})
    assert "X住建督" in lead.page(f"/bulletins/{draft.id}")


def test_the_deduction_table_is_set_at_the_desk_from_a_month_on(app, make, desk,
                                                                november):
    lead = desk(make.user("compiler"))
    lead.post("/scores", {"month": "2026-11", "general": "2", "major": "10", "overdue": "3"})
    page = lead.page("/scores?month=2026-11")
    assert "<td>87.0</td>" in page  # 路灯管理所: 10 + 3
    assert "<td>95.0</td>" not in lead.page("/scores?month=2026-10")
