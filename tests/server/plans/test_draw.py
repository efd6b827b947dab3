"""The fair random draw (双随机): its rules hold, the same inputs and seed give the same
result, the audit trail holds the inputs before the result, and `manage.py plans
redraw-check` confirms a draw, or says it was tampered with."""

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Draw, Plan
from server.plans.draw import DrawImpossible, draw
from server.plans.draws import left_unchecked


def _inputs(n_sites=8, n_people=6, units=4, **rules):
    sites = [{"id": f"s{n:02}", "unit_id": f"u{n % units}"} for n in range(n_sites)]
    people = [{"id": f"p{n:02}", "unit_id": f"u{n % units}"} for n in range(n_people)]
    return {"weeks": ["2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"],
            "sites": sites, "people": people,
            "rules": {"per_week": 2, "team": 2} | rules,
            "history": {"last_unit": {"p00": "u1"}, "covered_units": ["u0"]}}


def test_the_same_inputs_and_seed_give_the_same_draw_and_another_seed_another():
    inputs = _inputs()
    assert draw(inputs, "ab" * 16) == draw(inputs, "ab" * 16)
    assert draw(inputs, "ab" * 16) != draw(inputs, "cd" * 16)


@pytest.mark.parametrize("seed", [f"{n:032x}" for n in range(1, 40)])
def test_the_rules_hold_for_every_seed(seed):
    inputs = _inputs()
    result = draw(inputs, seed)
    units = {s["id"]: s["unit_id"] for s in inputs["sites"]}
    home = {p["id"]: p["unit_id"] for p in inputs["people"]}
    assert Counter(r["week"] for r in result) == {w: 2 for w in inputs["weeks"]}
    assert len({r["site_id"] for r in result}) == len(result)  # 8 sites, 8 checks: no repeat
    last, busy = dict(inputs["history"]["last_unit"]), {}
    for row in result:
        unit = units[row["site_id"]]
        assert len(row["assignee_ids"]) == 2
        for person in row["assignee_ids"]:
            assert home[person] != unit  # not the unit they come from
            assert last.get(person) != unit  # nor the unit they were drawn for last time
        # Nobody twice in a week while someone allowed is free.
        allowed = {p for p in home if home[p] != unit and last.get(p) != unit}
        free = allowed - busy.setdefault(row["week"], set())
        assert len(set(row["assignee_ids"]) & free) == min(2, len(free))
        for person in row["assignee_ids"]:
            last[person] = unit
            busy[row["week"]].add(person)
    # Units not yet covered this quarter come first: u1, u2, u3 in the first weeks.
    assert {units[r["site_id"]] for r in result[:3]} == {"u1", "u2", "u3"}
    # 16 places for 6 people: everyone is drawn, and the least drawn first keeps it even
    # (a spread of 1 or 2 in 396 of 399 seeds; the rules above come first).
    load = Counter(p for r in result for p in r["assignee_ids"])
    assert len(load) == 6 and max(load.values()) - min(load.values()) <= 3


def test_a_draw_the_pools_cannot_meet_is_refused():
    with pytest.raises(DrawImpossible):
        draw(_inputs(n_people=2, units=2), "ab" * 16)  # both people come from every unit


@pytest.mark.parametrize("seed", [f"{n:032x}" for n in range(1, 60)])
def test_a_draw_ending_the_quarter_reaches_every_unit_it_has_room_for(seed):
    # Six units, one covered already; four weeks of two checks: room for the other five.
    inputs = _inputs(n_sites=12, units=6, quarter_cover=True) | {
        "weeks": ["2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28"]}
    result = draw(inputs, seed)
    assert left_unchecked(inputs, result) == []
    units = {s["id"]: s["unit_id"] for s in inputs["sites"]}
    assert {units[r["site_id"]] for r in result[:5]} == {"u1", "u2", "u3", "u4", "u5"}


def test_only_a_draw_ending_the_quarter_must_reach_the_units_left():
    inputs = _inputs(units=4, quarter_cover=True) | {"weeks": ["2026-12-21"]}
    one = [{"week": "2026-12-21", "site_id": "s01", "assignee_ids": ["p02", "p03"]}]
    assert left_unchecked(inputs, one) == []  # the week of 28 December is still to come
    last = inputs | {"weeks": ["2026-12-28"]}  # its Monday is the quarter's last
    assert left_unchecked(last, one) == ["u2", "u3"]  # u0 was covered, u1 drawn now
    assert left_unchecked(last | {"rules": last["rules"] | {"quarter_cover": False}},
                          one) == []


def _draw_form(bureau, **fields):
    return {"period": "2026-12", "mode": "covert", "per_week": "2", "team": "2",
            "not_home_unit": "1", "not_last_unit": "1", "quarter_cover": "1",
            "site_ids": [str(s.id) for s in bureau.sites],
            "people_ids": [str(p.id) for p in bureau.supervisors]} | fields


def test_the_compiler_draws_and_the_audit_holds_inputs_before_result(app, bureau, desk,
                                                                     runner):
    lead = desk(bureau.compiler)
    assert 'name="period"' in lead.page("/plans/draw")
    response = lead.post("/plans/draw", _draw_form(bureau))
    made = db.session.scalar(sa.select(Draw))
    assert response.headers["Location"].endswith(f"/plans/draws/{made.id}")
    plans = db.session.scalars(sa.select(Plan).where(Plan.draw_id == made.id)).all()
    assert len(plans) == len(made.result) == 2 * 4  # four Mondays in December 2026
    assert all(p.mode == "covert" and len(p.assignees) == 2 for p in plans)
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.subject_id == str(made.id)).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["draw_prepared", "draw_made"]
    assert events[0].detail["seed"] == made.seed
    assert events[0].detail["inputs"]["people"] and events[1].detail["result"] == made.result
    page = lead.page(f"/plans/draws/{made.id}")
    assert made.seed in page and "redraw-check" in page
    assert 'class="note"' not in page  # eight checks reached all three units

    confirmed = runner.invoke(args=["plans", "redraw-check", str(made.id)])
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.output.startswith("confirmed: ") and made.seed in confirmed.output


def test_the_draw_page_names_the_units_a_small_draw_left_out(app, bureau, desk):
    lead = desk(bureau.compiler)
    lead.post("/plans/draw", _draw_form(bureau, period="2026-W50", per_week="1"))
    made = db.session.scalar(sa.select(Draw))
    drawn = next(s.unit.name for s in bureau.sites if str(s.id) == made.result[0]["site_id"])
    note = re.search(r'<p class="note">([^<]*)</p>', lead.page(f"/plans/draws/{made.id}"))
    left_out = {u.name for u in bureau.units} - {drawn}
    assert note and all(name in note.group(1) for name in left_out) and drawn not in note.group(1)


def test_the_quarters_last_draw_is_refused_when_it_leaves_a_unit_unchecked(app, bureau, desk):
    lead = desk(bureau.compiler)
    page = lead.post("/plans/draw", _draw_form(bureau, period="2026-W53", per_week="1"),
                     status=200).get_data(as_text=True)
    flash = re.search(r'<p class="flash error"[^>]*>([^<]*)</p>', page)
    assert flash and sum(u.name in flash.group(1) for u in bureau.units) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draw)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("draw%"))) == 0
    lead.post("/plans/draw", _draw_form(bureau, period="2026-W53", per_week="3"))
    made = db.session.scalar(sa.select(Draw))
    units = {str(s.id): s.unit_id for s in bureau.sites}
    assert {units[row["site_id"]] for row in made.result} == {u.id for u in bureau.units}
    # With the rule turned off, the draw is made, and the audit says the rule was off.
    lead.post("/plans/draw", _draw_form(bureau, period="2027-W13", per_week="1",
                                        quarter_cover=""))
    last = db.session.scalar(sa.select(Draw).where(Draw.period == "2027-W13"))
    assert last is not None and last.inputs["rules"]["quarter_cover"] is False


def test_redraw_check_catches_a_result_changed_afterwards(app, bureau, desk, runner):
    desk(bureau.compiler).post("/plans/draw", _draw_form(bureau))
    made = db.session.scalar(sa.select(Draw))
    made.result = list(reversed(made.result))  # someone edits the stored result
    db.session.commit()
    caught = runner.invoke(args=["plans", "redraw-check", str(made.id)])
    assert caught.exit_code == 1 and "MISMATCH" in caught.output
    assert runner.invoke(args=["plans", "redraw-check", "nonsense"]).exit_code == 2
    unknown = runner.invoke(args=["plans", "redraw-check", "0" * 32])
    assert unknown.exit_code == 1


def test_a_second_draw_remembers_whom_each_supervisor_was_drawn_for(app, bureau, desk):
    lead = desk(bureau.compiler)
    lead.post("/plans/draw", _draw_form(bureau, period="2026-W50", per_week="1"))
    lead.post("/plans/draw", _draw_form(bureau, period="2026-W51", per_week="1"))
    first, second = db.session.scalars(sa.select(Draw).order_by(Draw.period)).all()
    units = {str(s.id): str(s.unit_id) for s in bureau.sites}
    before = units[first.result[0]["site_id"]]
    assert second.inputs["history"]["last_unit"] == {
        p: before for p in first.result[0]["assignee_ids"]}
    assert before in second.inputs["history"]["covered_units"]


@pytest.mark.parametrize("change, says", [
    ({"period": "2026-13"}, "2026-12"), ({"period": "<b>x</b>"}, "2026-12"),
    ({"per_week": "99"}, "20"), ({"team": "0"}, "5"), ({"team": "many"}, ""),
    ({"people_ids": []}, ""), ({"site_ids": ["not-an-id"]}, ""), ({"mode": "loud"}, ""),
])
def test_bad_draws_are_refused_and_draw_nothing(app, bureau, desk, change, says):
    lead = desk(bureau.compiler)
    page = lead.post("/plans/draw", _draw_form(bureau, **change), status=200)
    assert says in page.get_data(as_text=True) and 'class="flash error"' in page.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draw)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("draw%"))) == 0


def test_only_the_compiler_draws(app, bureau, desk):
    for who in (bureau.inspector, bureau.reviewer, bureau.contact, bureau.supervisors[0]):
        desk(who).post("/plans/draw", _draw_form(bureau), status=403)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draw)) == 0


@pytest.mark.parametrize("seed", [f"{n:032x}" for n in range(1, 200)])
def test_a_tight_pool_still_draws_for_every_seed(seed):
    """Four supervisors, three units, two sites each: drawing greedily corners itself
    in one seed of eight; a cornered week is drawn again."""
    sites = [{"id": f"s{n}", "unit_id": f"u{n // 2}"} for n in range(6)]
    people = [{"id": f"p{n}", "unit_id": f"u{n % 3}"} for n in range(4)]
    inputs = {"weeks": ["w1", "w2", "w3", "w4"], "sites": sites, "people": people,
              "rules": {"per_week": 2, "team": 2}, "history": {}}
    assert len(draw(inputs, seed)) == 8
