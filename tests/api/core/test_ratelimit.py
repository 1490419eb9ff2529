"""Token bucket: a burst, then one request per 1/rate seconds."""

from __future__ import annotations

from omnicrm.api.core.ratelimit import TokenBuckets


def test_burst_then_refill_at_the_rate():
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=2, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] = 0.5
    assert buckets.take("k") == 0.0
    assert buckets.take("other") == 0.0
