"""Property: offline edits on three phones over a bad network converge, each applied once.

Hypothesis draws a program (which phone does what, offline, and when it syncs; and what
the supervision group changes on the server meanwhile: plans given to the supervisor,
taken away and edited between their pulls) and a network per phone that drops requests
and responses, sends some twice and replays some late, out of order. Every example signs
in new users on new phones and looks only at what they made, so examples share the live
server without cleaning it between them.
"""

import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server.api.records import to_data
from server.extensions import db
from server.models import AppliedMutation, Check, Finding, Plan, Site, User
from sync.backoff import Backoff
from sync.client import Client
from sync.errors import ServerUnavailable
from sync.faults import FaultyTransport
from sync.report import same
from tests.conftest import PASSWORD

ROLES = ("inspector", "inspector", "supervisor")  # a supervisor pulls only their own checks
ACTIONS = ("create", "note", "end", "finding", "delete", "sync", "assign", "retitle")
ON_THE_SERVER = ("assign", "retitle")  # the supervision group, at its desk
START = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=8)))
ROUNDS = 40  # tries at the end before a phone counts as unable to sync

share = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.4])
networks = st.fixed_dictionaries({"drop_requests": share, "drop_responses": share,
                                  "duplicate": share, "replay": share})
programs = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(ACTIONS),
                              st.integers(0, 59)), min_size=4, max_size=25)


class World:
    """One example: its users, their phones, and what the phones meant to happen."""

    def __init__(self, make, place, base_url, folder, shares, seed):
        users = [make.user(role) for role in ROLES]
        self.site_id, self.category_id = place.site_id, place.category_id
        self.user_ids = [user.id for user in users]
        names = [user.username for user in users]
        db.session.commit()  # plain values read; the test holds no transaction from here
        folder.mkdir()
        self.networks = [FaultyTransport(seed=seed + n) for n in range(3)]
        self.phones = [Client(base_url, folder / f"{n}.db", transport=self.networks[n],
                              backoff=Backoff(max_attempts=3, sleep=lambda _s: None))
                       for n in range(3)]
        for phone, name, network, faults in zip(self.phones, names, self.networks, shares,
                                                strict=True):
            phone.login(name, PASSWORD, "测试手机")
            vars(network).update(faults)  # the network turns bad once signed in
        self.owner = {}  # (type, id) -> the phone that created it
        self.lines = {}  # check id -> every notes line, in the order they were written
        self.ended = {}  # check id -> the last ended_at set
        self.deleted = set()
        self.plans = []  # ids of the plans the server made for this example
        self.mutations = set()  # the id of every change any phone made
        self.written = 0

    def close(self):
        for phone in self.phones:
            phone.close()

    def run(self, program):
        for n, action, pick in program:
            if action in ON_THE_SERVER:
                getattr(self, action)(pick)
                continue
            if action == "sync":
                _attempt(self.phones[n].sync)
                continue
            mine = [i for (kind, i), owner in self.owner.items()
                    if owner == n and kind == "check" and i not in self.deleted]
            if action == "create" or not mine:
                self.create(n)
            else:
                getattr(self, action)(n, mine[pick % len(mine)], pick)
            self.mutations.add(self.phones[n].store.outbox()[-1]["id"])

    def _line(self, n: int) -> str:
        self.written += 1
        return f"{n}号机 第{self.written}行"

    def create(self, n: int):
        line = self._line(n)
        check_id = self.phones[n].upsert("check", data={
            "site_id": self.site_id, "mode": "covert", "started_at": START.isoformat(),
            "notes": line})
        self.owner["check", check_id], self.lines[check_id] = n, [line]

    def note(self, n: int, check_id: str, _pick: int):
        line = self._line(n)
        notes = self.phones[n].record("check", check_id).data["notes"]
        self.phones[n].upsert("check", check_id, {"notes": notes + "\n" + line})
        self.lines[check_id].append(line)

    def end(self, n: int, check_id: str, pick: int):
        self.ended[check_id] = START + timedelta(minutes=pick + 1)
        self.phones[n].upsert("check", check_id, {"ended_at": self.ended[check_id].isoformat()})

    def finding(self, n: int, check_id: str, pick: int):
        finding_id = self.phones[n].upsert("finding", data={
            "check_id": check_id, "category_id": self.category_id,
            "description": f"问题{pick}"})
        self.owner["finding", finding_id] = n

    def delete(self, n: int, check_id: str, _pick: int):
        self.phones[n].delete("check", check_id)
        self.deleted.add(check_id)

    def assign(self, pick: int):
        """A new plan for the supervisor, or one of this example's plans given to them or
        taken away from them."""
        supervisor = _user(self.user_ids[2])
        if not self.plans or pick % 3 == 0:
            plan = Plan(title=f"暗访计划{pick}", mode="covert", window_start=START,
                        window_end=START + timedelta(days=7), created_by=self.user_ids[0],
                        sites=[db.session.get(Site, uuid.UUID(self.site_id))],
                        assignees=[supervisor])
            db.session.add(plan)
            db.session.flush()
            self.plans.append(plan.id)
        else:
            plan = db.session.get(Plan, self.plans[pick % len(self.plans)])
            plan.assignees = [] if plan.assignees else [supervisor]
        db.session.commit()

    def retitle(self, pick: int):
        if self.plans:
            db.session.get(Plan, self.plans[pick % len(self.plans)]).title = f"计划第{pick}版"
            db.session.commit()

    def settle(self):
        """Every phone pushes until its outbox is empty, the network settles, all pull."""
        for phone in self.phones:
            assert _until(phone.push, lambda p=phone: p.store.outbox_size() == 0)
        for network in self.networks:
            network.flush()  # the late copies arrive before anyone looks
        for phone in self.phones:
            assert _until(phone.pull)


def _attempt(step) -> bool:
    """Run a sync step; a lost connection is normal in the field."""
    try:
        step()
        return True
    except ServerUnavailable:
        return False


def _until(step, done=lambda: True) -> bool:
    """Repeat ``step`` until it goes through and ``done()`` (at most ROUNDS times)."""
    return any(_attempt(step) and done() for _ in range(ROUNDS))


def _held(world: World) -> dict:
    """What the server holds of this example's records, by (type, id), read afresh."""
    db.session.rollback()
    checks = db.session.scalars(sa.select(Check).where(Check.created_by.in_(world.user_ids)))
    findings = db.session.scalars(
        sa.select(Finding).where(Finding.created_by.in_(world.user_ids)))
    plans = db.session.scalars(sa.select(Plan).where(Plan.created_by.in_(world.user_ids)))
    return {**{("check", str(c.id)): c for c in checks},
            **{("finding", str(f.id)): f for f in findings},
            **{("plan", str(p.id)): p for p in plans}}


def _user(user_id):
    return db.session.get(User, user_id)


def _visible(record, user_id, role: str) -> bool:
    if isinstance(record, Plan):
        return role != "supervisor" or user_id in {u.id for u in record.assignees}
    check = record if isinstance(record, Check) else record.check
    return record.deleted_at is None and (role != "supervisor" or check.created_by == user_id)


def _assert_phone_holds_what_the_server_shows(world: World, n: int, held: dict):
    phone, user_id = world.phones[n], world.user_ids[n]
    assert phone.store.outbox_size() == 0
    assert phone.store.conflicts() == [] and phone.store.rejections() == []
    local = {(r.type, r.entity_id): r for r in phone.records() if (r.type, r.entity_id) in held}
    shown = {key: record for key, record in held.items()
             if _visible(record, user_id, ROLES[n])}
    assert set(local) == set(shown), f"phone {n} ({ROLES[n]})"
    for key, record in shown.items():
        data = to_data(record)
        assert local[key].version == record.version, (n, key)
        different = {name: (local[key].data.get(name), value) for name, value in data.items()
                     if not same(name, local[key].data.get(name), value)}
        assert different == {}, (n, key)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(program=programs, shares=st.lists(networks, min_size=3, max_size=3),
       seed=st.integers(0, 2**32 - 1))
# A plan given to the supervisor, pulled, taken away and edited before their next pull.
@example(program=[(2, "assign", 0), (2, "sync", 0), (2, "assign", 1), (0, "retitle", 0),
                  (2, "sync", 0)],
         shares=[dict.fromkeys(("drop_requests", "drop_responses", "duplicate", "replay"),
                               0.0)] * 3, seed=0)
def test_offline_edits_on_three_phones_converge_and_each_applies_once(
        live_server, make, field, tmp_path, program, shares, seed):
    world = World(make, field, live_server, tmp_path / uuid.uuid4().hex, shares, seed)
    try:
        world.run(program)
        world.settle()
        held = _held(world)
        # (a) every phone holds exactly what the server shows its user.
        for n in range(3):
            _assert_phone_holds_what_the_server_shows(world, n, held)
        # (b) every change applied once, none lost; every record made exists once.
        device_ids = [uuid.UUID(phone.store.get("device_id")) for phone in world.phones]
        applied = list(db.session.scalars(sa.select(AppliedMutation.id).where(
            AppliedMutation.device_id.in_(device_ids))))
        assert len(applied) == len(world.mutations)
        assert {str(i) for i in applied} == world.mutations
        assert {key for key in held if key[0] != "plan"} == set(world.owner)
        # (c) notes keep every line written, once and in order; the rest as last set.
        for check_id, lines in world.lines.items():
            check = held["check", check_id]
            assert check.notes.splitlines() == lines
            assert check.ended_at == world.ended.get(check_id)
            assert (check.deleted_at is not None) == (check_id in world.deleted)
    finally:
        db.session.rollback()
        world.close()
