"""The fair random draw (双随机): which sites are checked in which week, and which
supervisors check them. A pure function of its inputs and seed, so that anyone holding
the audit entry can draw again and get the same result (``manage.py plans
redraw-check``).

Inputs (all ids as strings, every list in a fixed order)::

    {"weeks": ["2026-11-30", ...],                  # the Mondays of the period
     "sites": [{"id", "unit_id"}, ...],             # the pool of sites
     "people": [{"id", "unit_id"}, ...],            # the pool of supervisors (unit: theirs)
     "rules": {"per_week": 2, "team": 2, "not_home_unit": true, "not_last_unit": true,
               "quarter_cover": true},
     "history": {"last_unit": {person id: unit id}, "covered_units": [unit id, ...]}}

Rules: each week ``per_week`` sites, no site twice in a period while others are left;
sites of units not yet checked this quarter first (``quarter_cover``); a team of
``team`` people, none from the site's unit (``not_home_unit``) nor drawn for that unit
last time (``not_last_unit``), nobody twice in a week while others are free, and the
least drawn first. Randomness is only ``random.Random(seed).random()``, whose sequence
Python promises to keep across versions.
"""

import copy
import random

ATTEMPTS = 50  # tries of one week before the draw is found impossible
RULES = {"per_week": 2, "team": 2, "not_home_unit": True, "not_last_unit": True,
         "quarter_cover": True}


class DrawImpossible(ValueError):
    """The pools cannot meet the rules: too few sites or people."""


def _pick(items: list, rng: random.Random):
    return items[int(rng.random() * len(items))]


def _shuffled(items: list, rng: random.Random) -> list:
    out = list(items)
    for i in range(len(out) - 1, 0, -1):  # Fisher–Yates on random() alone
        j = int(rng.random() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out


class _State:
    def __init__(self, inputs: dict):
        history = inputs.get("history", {})
        self.last = dict(history.get("last_unit", {}))
        self.covered = set(history.get("covered_units", []))
        self.used_sites: set = set()
        self.load = {p["id"]: 0 for p in inputs["people"]}


def _team(site: dict, people: list, rules: dict, state: _State, busy: set, rng) -> list | None:
    def allowed(person):
        return not ((rules["not_home_unit"] and person["unit_id"] == site["unit_id"])
                    or (rules["not_last_unit"] and state.last.get(person["id"]) == site["unit_id"]))

    eligible = [p["id"] for p in people if allowed(p)]
    if len(eligible) < rules["team"]:
        return None
    # Free this week first, then the least drawn; sorted() is stable, so ties stay random.
    ranked = sorted(_shuffled(eligible, rng), key=lambda p: (p in busy, state.load[p]))
    return sorted(ranked[:rules["team"]])


def _candidates(sites: list, state: _State, tried: set, quarter_cover: bool) -> list:
    left = [s for s in sites if s["id"] not in tried]
    fresh = [s for s in left if s["id"] not in state.used_sites]
    uncovered = [s for s in fresh if s["unit_id"] not in state.covered]
    return (uncovered if quarter_cover else []) or fresh or left


def _week(week: str, inputs: dict, rules: dict, state: _State, rng) -> list[dict] | None:
    """One week's checks, changing ``state``; None when this try found no way."""
    busy: set = set()
    tried: set = set()
    rows = []
    while len(rows) < rules["per_week"]:
        candidates = _candidates(inputs["sites"], state, tried, rules["quarter_cover"])
        if not candidates:
            return None
        site = _pick(candidates, rng)
        tried.add(site["id"])
        team = _team(site, inputs["people"], rules, state, busy, rng)
        if team is None:
            continue
        rows.append({"week": week, "site_id": site["id"], "assignee_ids": team})
        state.used_sites.add(site["id"])
        state.covered.add(site["unit_id"])
        busy.update(team)
        for person in team:
            state.last[person] = site["unit_id"]
            state.load[person] += 1
    return rows


def draw(inputs: dict, seed: str) -> list[dict]:
    """[{"week", "site_id", "assignee_ids"}] in drawing order; DrawImpossible if a week
    cannot get its sites and teams. A week whose early picks leave no team for its last
    site is drawn again (from where the randomness has got to, so still reproducible),
    up to ``ATTEMPTS`` times."""
    rules = {**RULES, **inputs.get("rules", {})}
    rng = random.Random(int(seed, 16))
    state = _State(inputs)
    result = []
    for week in inputs["weeks"]:
        for _attempt in range(ATTEMPTS):
            trial = copy.deepcopy(state)
            rows = _week(week, inputs, rules, trial, rng)
            if rows is not None:
                state = trial
                result += rows
                break
        else:
            raise DrawImpossible(f"week of {week}: {rules['per_week']} sites with teams of "
                                 f"{rules['team']} cannot be found under the rules")
    return result
