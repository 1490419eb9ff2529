"""Per-key token bucket rate limiting (in process).

Each API key has a bucket of ``burst`` tokens refilled at ``rate`` tokens per second; a
request takes one token or is refused with the time until the next token. Buckets live in the
worker process: with N uvicorn workers a key may get up to N times the rate (put a shared
limiter in front for a strict global limit).

Examples
--------
>>> from omnicrm.api.core.ratelimit import TokenBuckets
>>> buckets = TokenBuckets(rate=1.0, burst=2, clock=lambda: 0.0)
>>> [buckets.take("k") for _ in range(3)]
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBuckets:
    """Token buckets keyed by a string, safe to use from many threads."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if allowed, else seconds to wait before retrying."""
        with self._lock:
            now = self.clock()
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
