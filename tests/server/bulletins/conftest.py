"""A bureau's November 2026 for the bulletin's tests: checks on both sides of the month's
edges in the bureau's time, confirmed, pending, dismissed and deleted findings, cases
closed, overdue and open, photos accepted and not, a covert plan that must never show."""

from datetime import UTC, date, datetime

import pytest

from server.extensions import db


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def november(make):
    a, b = make.unit(name="建筑业管理科"), make.unit(name="路灯管理所")
    make.unit(name="人事科")  # not checked this month
    site_a = make.site(a, name="纺织东路道路工程")
    site_b = make.site(b, name="恒天花园小巷路灯改造")
    inspector = make.user("inspector")
    plan = make.plan([site_b], [inspector], mode="covert")
    plan.title = "十一月暗访计划（绝密）"

    def check(site, mode, started, plan=None):
        c = make.check(inspector, site, mode=mode, plan=plan)
        c.started_at = _at(started)
        return c

    def finding(c, state="confirmed", severity="general"):
        f = make.finding(c, severity=severity)
        f.state = state
        return f

    open_a = check(site_a, "open", "2026-11-03T01:00:00")
    # 01:30 on 1 November in the bureau (UTC+8): November, although UTC says October.
    covert_b = check(site_b, "covert", "2026-10-31T17:30:00", plan=plan)
    # 00:30 on 1 December in the bureau: not November.
    december = check(site_a, "covert", "2026-11-30T16:30:00")
    october = check(site_b, "open", "2026-10-15T02:00:00")

    fixed = finding(open_a)
    major = finding(covert_b, severity="major")
    finding(open_a, state="pending")
    finding(covert_b, state="dismissed")
    finding(open_a).deleted_at = _at("2026-11-04T00:00:00")  # deleted: no longer a problem
    finding(december, severity="major")
    earlier = finding(october)
    make.case(fixed, status="closed")
    late = make.case(major, status="notified")
    late.deadline = date(2026, 11, 20)
    make.case(earlier, status="rectifying")

    blurred = make.evidence(open_a, fixed)
    blurred.review_state, blurred.state, blurred.captured_at = (
        "needs_info", "ready", _at("2026-11-03T01:05:00"))
    shown = make.evidence(open_a, fixed)
    shown.review_state, shown.state, shown.captured_at = (
        "accepted", "ready", _at("2026-11-03T01:10:00"))
    voice = make.evidence(open_a, fixed, kind="audio")
    voice.review_state, voice.state = "accepted", "ready"
    db.session.commit()
    return {"a": a, "b": b, "fixed": fixed, "major": major, "shown": shown, "plan": plan}
