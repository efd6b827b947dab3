"""A flaky network for tests and the phone simulator: an httpx transport that misbehaves.

It wraps a real transport and, decided by a seeded ``random.Random`` so a run can be
repeated, drops requests before they leave (the server never sees them), drops
responses after the server has acted (the client cannot tell the request arrived),
delays requests, and sends some twice (as a retrying proxy might) returning one answer.
"""

import random
import threading
import time
from collections import Counter

import httpx


class FaultyTransport(httpx.BaseTransport):
    """Wraps ``inner`` (a real ``httpx.HTTPTransport`` by default) and counts its faults."""

    def __init__(self, inner: httpx.BaseTransport | None = None, *, seed: int = 0,
                 drop_requests: float = 0.0, drop_responses: float = 0.0,
                 duplicate: float = 0.0, delay: float = 0.0, max_delay: float = 0.05,
                 sleep=time.sleep):
        self.inner = inner or httpx.HTTPTransport()
        self.rng = random.Random(seed)
        self.drop_requests, self.drop_responses = drop_requests, drop_responses
        self.duplicate, self.delay, self.max_delay = duplicate, delay, max_delay
        self.sleep = sleep
        self.counts = Counter()
        self.script = []  # fates forced on the next requests, before any dice are rolled
        self._lock = threading.Lock()  # one phone may share its transport between threads

    def force(self, *fates: str):
        """Decide the next requests' fates: "drop_request", "drop_response", "duplicate",
        or "pass"; later requests go back to chance."""
        with self._lock:
            self.script.extend(fates)

    def _roll(self) -> dict:
        with self._lock:
            self.counts["requests"] += 1
            if self.script:
                fate = self.script.pop(0)
                return {"drop_request": fate == "drop_request", "delay": 0.0,
                        "drop_response": fate == "drop_response",
                        "duplicate": fate == "duplicate"}
            return {"drop_request": self.rng.random() < self.drop_requests,
                    "drop_response": self.rng.random() < self.drop_responses,
                    "duplicate": self.rng.random() < self.duplicate,
                    "delay": self.rng.uniform(0, self.max_delay)
                    if self.rng.random() < self.delay else 0.0}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the inner transport, or pretend the network failed."""
        fate = self._roll()
        if fate["delay"]:
            self._count("delayed")
            self.sleep(fate["delay"])
        if fate["drop_request"]:
            self._count("dropped_requests")
            raise httpx.ConnectError("fault: request dropped", request=request)
        request.read()  # the body must be replayable for a duplicate
        if fate["duplicate"]:
            self._count("duplicated")
            first = self.inner.handle_request(request)
            first.read()
            first.close()
        response = self.inner.handle_request(request)
        if fate["drop_response"]:
            self._count("dropped_responses")
            response.read()  # the server has finished acting on it
            response.close()
            raise httpx.ReadError("fault: response dropped", request=request)
        self._count("passed")
        return response

    def _count(self, what: str):
        with self._lock:
            self.counts[what] += 1

    def close(self):
        """Close the inner transport."""
        self.inner.close()
