"""Retry policy and the fault-injecting transport, without a server."""

import contextlib
import random

import httpx
import pytest

from sync.backoff import Backoff, parse_retry_after
from sync.errors import AuthError, ServerUnavailable, SyncError
from sync.faults import FaultyTransport


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


def test_client_retries_5xx_and_network_errors_then_succeeds(phone, fake):
    slept, network = [], FaultyTransport(fake.transport)
    client = phone(transport=network)
    client.backoff.sleep = slept.append
    fake.fail_next = [503, 500]
    network.force("drop_request")
    assert client.pull() == 0
    assert len(slept) == 3 and client.stats["retries"] == 3


def test_client_gives_up_after_max_attempts_and_keeps_the_outbox(phone, fake):
    client = phone()
    client.upsert("check", data={"notes": "上下班签到检查"})
    fake.fail_next = [502] * 10
    with pytest.raises(ServerUnavailable, match="4 attempts"):
        client.push()
    assert client.store.outbox_size() == 1 and fake.pushes == []


def test_problem_documents_raise_at_once_with_their_detail(phone, fake):
    client = phone()
    fake.fail_next = [422]
    with pytest.raises(SyncError) as error:
        client.pull()
    assert error.value.status == 422 and error.value.detail == "injected"
    assert client.stats["retries"] == 0
    fake.fail_next = [401]
    with pytest.raises(AuthError):
        client.pull()


def _recorder():
    seen = []

    def handle(request):
        seen.append(request.content)
        return httpx.Response(200, json={"n": len(seen)})

    return seen, httpx.MockTransport(handle)


def test_dropped_request_never_reaches_the_server_dropped_response_does():
    seen, inner = _recorder()
    network = FaultyTransport(inner)
    network.force("drop_request", "drop_response")
    with httpx.Client(transport=network, base_url="http://x") as http:
        with pytest.raises(httpx.ConnectError):
            http.post("/a", content=b"1")
        assert seen == []
        with pytest.raises(httpx.ReadError):
            http.post("/a", content=b"2")
        assert seen == [b"2"]


def test_duplicated_request_arrives_twice_and_one_answer_returns():
    seen, inner = _recorder()
    network = FaultyTransport(inner)
    network.force("duplicate")
    with httpx.Client(transport=network, base_url="http://x") as http:
        assert http.post("/a", content=b"body").json() == {"n": 2}
    assert seen == [b"body", b"body"] and network.counts["duplicated"] == 1


def test_faults_follow_the_seed_and_the_shares():
    def run(seed):
        seen, inner = _recorder()
        network = FaultyTransport(inner, seed=seed, drop_requests=0.2, drop_responses=0.2)
        with httpx.Client(transport=network, base_url="http://x") as http:
            for _ in range(500):
                with contextlib.suppress(httpx.TransportError):
                    http.get("/")
        return network.counts

    counts = run(11)
    assert counts == run(11) and counts["requests"] == 500
    assert 70 < counts["dropped_requests"] < 130
    assert 55 < counts["dropped_responses"] < 110  # a fifth of the requests that went out
    assert counts["passed"] + counts["dropped_requests"] + counts["dropped_responses"] == 500
