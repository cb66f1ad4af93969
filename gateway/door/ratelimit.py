"""Per-identity rate limit at the door: a token bucket per caller, in memory."""

from __future__ import annotations

import time


class RateLimiter:
    """``rate`` requests per second per key, with bursts up to ``rate * burst_seconds``."""

    def __init__(self, *, rate: float, burst_seconds: float = 2.0, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate * burst_seconds)
        self.max_keys = max_keys
        self._buckets: dict[str, list[float]] = {}  # key -> [tokens, last refill time]

    def take(self, key: str) -> float:
        """Spend one request of ``key``: 0.0 when allowed, else the seconds until one is."""
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            self._buckets[key] = [self.capacity - 1.0, now]
            return 0.0
        tokens = min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget callers whose bucket has refilled (they are as good as new)."""
        full = [k for k, (tokens, last) in self._buckets.items() if tokens + (now - last) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all busy: drop the oldest half rather than grow
            for key in list(self._buckets)[: self.max_keys // 2]:
                del self._buckets[key]
