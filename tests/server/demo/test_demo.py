"""`python manage.py demo` on a database of its own: it refuses to mix with other records,
and the same day always tells the same story, with every case status in it."""

from datetime import UTC, datetime, timedelta

from server.demo import data, services
from server.extensions import db
from server.models import Case, Check, Site, User
from sync.vocabulary import CASE_STATUSES, REVIEW_STATES


def _all(model):
    return db.session.scalars(db.select(model)).all()


def test_demo_refuses_a_database_with_its_usernames_taken(runner, make):
    make.user("admin", username="admin")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2
    assert "admin" in result.output
    assert not _all(Site) and len(_all(User)) == 1


def test_the_same_day_gives_the_same_demo(app):
    now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)

    def story():
        services.load_demo(data.PASSWORD, now=now)
        checks = db.session.scalars(db.select(Check).order_by(Check.started_at)).all()
        told = [(c.site.code, c.author.username, c.started_at, c.notes) for c in checks]
        db.session.rollback()
        return told

    assert story() == story()


def test_every_case_status_occurs_whatever_the_day_and_hour(app):
    # The month is told relative to its last day: weekends and office hours move it about.
    for n in range(7):
        now = datetime(2026, 11, 30, 1, 10, tzinfo=UTC) + timedelta(days=n, hours=3 * n)
        services.load_demo(data.PASSWORD, now=now)
        cases = _all(Case)
        assert {case.status for case in cases} == set(CASE_STATUSES), now
        assert any(case.overdue for case in cases), now
        db.session.rollback()


def test_the_reviewer_finds_a_month_of_photos_and_a_queue_whatever_the_day(app):
    # Five weeks of days, so every weekday falls at every point of the story once.
    for n in range(35):
        now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC) + timedelta(days=n)
        evidence = [shot.evidence for shot in
                    services.add_month(data.PASSWORD, now, media=True).shots]
        photos = [e for e in evidence if e.kind == "photo"]
        assert 40 <= len(photos) <= 60, now
        assert {e.review_state for e in evidence} == set(REVIEW_STATES), now
        waiting = [e for e in evidence if e.review_state == "pending" and e.check]
        assert len(waiting) >= 5, now
        db.session.rollback()
