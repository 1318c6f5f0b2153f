"""A per-key token bucket: ``rate`` requests per second on average, bursts of up to ``burst``.

The contest server keys it by team, so one team's flood of requests (refused or not) cannot
take the server's time from the others. It lives in the memory of one server process.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Hashable


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, time)
        self._lock = threading.Lock()

    def wait_time(self, key: Hashable) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
