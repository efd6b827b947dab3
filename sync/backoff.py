"""Exponential backoff with full jitter for retrying requests over a flaky connection."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """How long to wait before retry number n, and how many attempts to make at most.

    Full jitter (a uniform wait between 0 and the exponential ceiling) keeps a crowd of
    phones that lost the signal together from retrying in lockstep when it returns.
    """

    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    max_attempts: int = 6
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (1 for the first retry)."""
        return min(self.cap, self.base * self.factor ** (retry - 1))

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """A jittered wait before retry ``retry``; a server's Retry-After is a floor."""
        wait = self.rng.uniform(0, self.ceiling(retry))
        if retry_after is not None:
            # The server knows best when it will take us again, but never wait forever.
            wait = max(wait, min(retry_after, self.cap))
        return wait

    def wait(self, retry: int, retry_after: float | None = None) -> float:
        """Sleep before retry ``retry``; return how long."""
        seconds = self.delay(retry, retry_after)
        self.sleep(seconds)
        return seconds


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header in its delta-seconds form; None otherwise."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from our server, fall back to our own backoff
