"""A flaky network for tests and the phone simulator: an httpx transport that misbehaves.

It wraps a real transport and, decided by a seeded ``random.Random`` so a run can be
repeated, drops requests before they leave (the server never sees them), drops
responses after the server has acted (the client cannot tell the request arrived),
delays requests, sends some twice (as a retrying proxy might) returning one answer, and
replays some late: a copy reaches the server again after later requests, out of order,
and its answer is lost. A dropped request that is also replayed was only held up: the
client saw it fail, and it arrives after the requests that followed it. A cut request
loses its connection in the middle of its body: the server gets the first part of it
(an upload's first bytes), the client a write error.
"""

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace

import httpx

FATES = ("pass", "drop_request", "drop_response", "duplicate", "replay", "hold", "cut")


@dataclass(frozen=True)
class Fate:
    """What the network does to one request."""

    drop_request: bool = False
    drop_response: bool = False
    duplicate: bool = False
    replay_after: int = 0  # send a copy again after this many later requests; 0: never
    delay: float = 0.0
    status: int | None = None  # a gateway answers this status; the server never hears
    cut: float = 0.0  # the connection breaks after this share of the body; 0: it does not


def forced(fate: str | int) -> Fate:
    """The Fate a name of ``FATES`` (or an HTTP status a gateway answers) stands for."""
    if isinstance(fate, int):
        return Fate(status=fate)
    if fate not in FATES:
        raise ValueError(f"unknown fate {fate!r}; one of {FATES} or an HTTP status")
    return Fate(drop_request=fate in ("drop_request", "hold"),
                drop_response=fate == "drop_response", duplicate=fate == "duplicate",
                replay_after=int(fate in ("replay", "hold")), cut=0.5 * (fate == "cut"))


class FaultyTransport(httpx.BaseTransport):
    """Wraps ``inner`` (a real ``httpx.HTTPTransport`` by default) and counts its faults."""

    def __init__(self, inner: httpx.BaseTransport | None = None, *, seed: int = 0,
                 drop_requests: float = 0.0, drop_responses: float = 0.0,
                 duplicate: float = 0.0, delay: float = 0.0, max_delay: float = 0.05,
                 replay: float = 0.0, max_replay_after: int = 3, cut: float = 0.0,
                 sleep=time.sleep):
        self.inner = inner or httpx.HTTPTransport()
        self.rng = random.Random(seed)
        self.drop_requests, self.drop_responses = drop_requests, drop_responses
        self.duplicate, self.delay, self.max_delay = duplicate, delay, max_delay
        self.replay, self.max_replay_after = replay, max_replay_after
        self.cut = cut  # share of requests with a body whose connection breaks midway
        self.sleep = sleep
        self.counts = Counter()
        self.script = []  # fates forced on the next requests, before any dice are rolled
        self._replays = []  # [later requests still to wait for, request]
        self._lock = threading.Lock()  # one phone may share its transport between threads

    def force(self, *fates: str | int):
        """Decide the next requests' fates: a name of ``FATES`` ("pass", "drop_request",
        "drop_response", "duplicate", "replay", "hold", "cut") or an HTTP status that a
        gateway answers instead of the server (502, 503…); later requests go back to
        chance."""
        for fate in fates:
            forced(fate)  # refuse a typo now, not at the request it was meant for
        with self._lock:
            self.script.extend(fates)

    def decide(self) -> Fate:
        """The fate of the next request: the script's, else the dice's."""
        with self._lock:
            self.counts["requests"] += 1
            if self.script:
                return forced(self.script.pop(0))
            # The draws keep their order; replay is drawn only when asked for, so a seed
            # gives the same faults as before replays existed.
            fate = Fate(drop_request=self.rng.random() < self.drop_requests,
                        drop_response=self.rng.random() < self.drop_responses,
                        duplicate=self.rng.random() < self.duplicate,
                        delay=self.rng.uniform(0, self.max_delay)
                        if self.rng.random() < self.delay else 0.0)
            if self.replay and self.rng.random() < self.replay:
                fate = replace(fate, replay_after=self.rng.randint(1, self.max_replay_after))
            if self.cut and self.rng.random() < self.cut:  # drawn only when asked for, too
                fate = replace(fate, cut=self.rng.uniform(0.05, 0.95))
            return fate

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the inner transport, or pretend the network failed;
        then send the replays that were waiting for one more request."""
        fate = self.decide()
        due = self._due_replays()
        try:
            return self._deliver(request, fate, read=bool(due))
        finally:
            for late in due:
                self._send_replay(late)

    def _deliver(self, request: httpx.Request, fate: Fate, read: bool) -> httpx.Response:
        if fate.delay:
            self._count("delayed")
            self.sleep(fate.delay)
        request.read()  # the body must be replayable for a duplicate or a replay
        if fate.status:
            self._count("gateway_errors")
            return httpx.Response(fate.status, text="gateway error", request=request)
        if fate.replay_after:
            with self._lock:
                self._replays.append([fate.replay_after, request])
        if fate.drop_request:
            self._count("held" if fate.replay_after else "dropped_requests")
            raise httpx.ConnectError("fault: request dropped", request=request)
        if fate.cut and len(request.content) > 1:
            self._cut(request, fate.cut)
        if fate.duplicate:
            self._count("duplicated")
            first = self.inner.handle_request(request)
            first.read()
            first.close()
        response = self.inner.handle_request(request)
        if fate.drop_response:
            self._count("dropped_responses")
            response.read()  # the server has finished acting on it
            response.close()
            raise httpx.ReadError("fault: response dropped", request=request)
        self._count("passed")
        if read:
            response.read()  # the replays that follow share the connection pool
        return response

    def _cut(self, request: httpx.Request, share: float):
        """Send the head of the body on a connection that then breaks; raise WriteError."""
        self._count("cut")
        body = request.content
        keep = min(len(body) - 1, max(1, int(len(body) * share)))
        partial = httpx.Request(request.method, request.url, headers=request.headers,
                                stream=_CutStream(body[:keep]))
        try:
            response = self.inner.handle_request(partial)  # the server may answer early
            response.read()
            response.close()
        except (_Broken, httpx.TransportError):
            pass
        raise httpx.WriteError("fault: connection broken in the middle of the body",
                               request=request)

    def _due_replays(self) -> list[httpx.Request]:
        """Count one more request against every waiting replay; return those now due."""
        with self._lock:
            for waiting in self._replays:
                waiting[0] -= 1
            due = [request for left, request in self._replays if left <= 0]
            self._replays = [waiting for waiting in self._replays if waiting[0] > 0]
        return due

    def _send_replay(self, request: httpx.Request):
        """Send a late copy; nobody waits for its answer, and it may be lost too."""
        self._count("replayed")
        try:
            response = self.inner.handle_request(request)
            response.read()
            response.close()
        except httpx.TransportError:
            self._count("replays_lost")

    def flush(self) -> int:
        """Send every replay still waiting, as a network that settles at last; how many."""
        with self._lock:
            due, self._replays = [request for _left, request in self._replays], []
        for request in due:
            self._send_replay(request)
        return len(due)

    def _count(self, what: str):
        with self._lock:
            self.counts[what] += 1

    def close(self):
        """Close the inner transport."""
        self.inner.close()


class _Broken(Exception):
    """The network broke in the middle of a body."""


class _CutStream(httpx.SyncByteStream):
    """The head of a body, then a broken connection (the request's Content-Length still
    promises the whole body, so the server sees it end early)."""

    def __init__(self, head: bytes):
        self.head = head

    def __iter__(self):
        yield self.head
        raise _Broken("connection broken")
