"""Retry policy and the fault-injecting transport: the dice alone, then the real server."""

import random
from collections import Counter

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AppliedMutation, Check
from sync.backoff import Backoff, parse_retry_after
from sync.client import PULL, PUSH
from sync.errors import ServerUnavailable
from sync.faults import FaultyTransport
from tests.sync.conftest import RecordingTransport


def test_backoff_ceiling_doubles_up_to_the_cap():
    backoff = Backoff(base=0.5, factor=2, cap=4)
    assert [backoff.ceiling(n) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]


def test_backoff_waits_are_jittered_within_the_ceiling_and_repeatable():
    waits = [Backoff(base=1, cap=8, rng=random.Random(3)).delay(4) for _ in range(2)]
    assert waits[0] == waits[1] and 0 <= waits[0] <= 8
    spread = {Backoff(base=1, cap=8).delay(4) for _ in range(20)}
    assert len(spread) > 10  # full jitter: phones do not retry in lockstep


def test_retry_after_is_a_floor_but_never_beyond_the_cap():
    backoff = Backoff(base=0.01, cap=5)
    assert backoff.delay(1, retry_after=3) >= 3
    assert backoff.delay(1, retry_after=3600) == 5
    assert parse_retry_after("7") == 7 and parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") \
        is None and parse_retry_after(None) is None


def _fates(**shares) -> list:
    network = FaultyTransport(**shares)
    return [network.decide() for _ in range(500)]


def test_faults_follow_the_seed_and_the_shares():
    fates = _fates(seed=11, drop_requests=0.2, drop_responses=0.2)
    assert fates == _fates(seed=11, drop_requests=0.2, drop_responses=0.2)
    assert fates != _fates(seed=12, drop_requests=0.2, drop_responses=0.2)
    assert 70 < sum(f.drop_request for f in fates) < 130
    assert 70 < sum(f.drop_response for f in fates) < 130
    assert not any(f.duplicate or f.replay_after or f.delay for f in fates)


def test_replays_follow_their_share_and_wait_one_to_a_few_requests():
    fates = _fates(seed=5, replay=0.3, max_replay_after=3)
    assert fates == _fates(seed=5, replay=0.3, max_replay_after=3)
    waits = Counter(f.replay_after for f in fates if f.replay_after)
    assert set(waits) == {1, 2, 3} and 110 < sum(waits.values()) < 190
    with pytest.raises(ValueError, match="unknown fate"):
        FaultyTransport().force("drop_everything")


# --- against the real server ---------------------------------------------------------------


def _check(site_id: str) -> dict:
    return {"site_id": site_id, "mode": "covert", "started_at": "2026-11-30T09:12:03+08:00",
            "notes": "上下班签到检查"}


def _applied() -> int:
    db.session.rollback()  # see what the server's requests committed
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AppliedMutation))
    db.session.rollback()
    return count


def test_client_retries_5xx_and_network_errors_then_succeeds(open_phone, field):
    slept, network = [], FaultyTransport()
    client = open_phone(field.username, transport=network)
    client.backoff.sleep = slept.append
    network.force(503, 500, "drop_request")
    assert client.pull() > 0
    assert [r.data["name"] for r in client.records("site")] == ["纺织东路工地"]
    assert len(slept) == 3 and client.stats["retries"] == 3
    assert network.counts["gateway_errors"] == 2 and network.counts["dropped_requests"] == 1


def test_client_gives_up_after_max_attempts_and_keeps_the_outbox(open_phone, field):
    network = FaultyTransport()
    client = open_phone(field.username, transport=network)
    client.upsert("check", data=_check(field.site_id))
    network.force(*[502] * 5)
    with pytest.raises(ServerUnavailable, match="5 attempts"):
        client.push()
    assert client.store.outbox_size() == 1 and _applied() == 0


def test_each_fault_does_to_the_real_server_what_it_claims(open_phone, field):
    wire = RecordingTransport()  # what actually left for the server, in order
    network = FaultyTransport(wire)
    client = open_phone(field.username, transport=network)
    client.backoff.max_attempts = 1  # one request per call: each fate stands alone
    wire.sent.clear()

    client.upsert("check", data=_check(field.site_id))
    network.force("drop_request")
    with pytest.raises(ServerUnavailable):
        client.push()
    assert wire.sent == [] and _applied() == 0

    network.force("drop_response")  # the server acts, the phone cannot tell
    with pytest.raises(ServerUnavailable):
        client.push()
    assert _applied() == 1 and client.store.outbox_size() == 1

    client.upsert("check", data=_check(field.site_id))
    network.force("duplicate")  # both copies arrive; the phone gets the second answer
    assert client.push() == {"duplicate": 2}
    assert _applied() == 2 and len(wire.pushes) == 3 and wire.pushes[1] == wire.pushes[2]

    wire.sent.clear()
    client.upsert("check", data=_check(field.site_id))
    network.force("replay", "pass")  # answered now, and sent again after the next request
    assert client.push() == {"applied": 1}
    client.pull()
    assert [path for _m, path, _b in wire.sent] == [PUSH, PULL, PUSH]
    assert wire.sent[0] == wire.sent[2] and _applied() == 3

    wire.sent.clear()
    client.upsert("check", data=_check(field.site_id))
    network.force("hold", "pass")  # lost to the phone, arrives after its own retry
    with pytest.raises(ServerUnavailable):
        client.push()
    assert wire.sent == [] and _applied() == 3
    assert client.push() == {"applied": 1}
    assert wire.pushes == [wire.pushes[0]] * 2 and _applied() == 4
    assert network.flush() == 0

    counts = network.counts
    assert (counts["replayed"], counts["held"], counts["duplicated"]) == (2, 1, 1)
    assert counts["requests"] == sum(counts[k] for k in (
        "passed", "dropped_requests", "dropped_responses", "held"))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Check)) == 4
