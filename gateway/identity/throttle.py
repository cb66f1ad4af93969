"""Login throttling per address, in this process (per account it is in the database: service.py)."""

from __future__ import annotations

import time
from collections import deque


class AddressThrottle:
    """Refuses logins from an address after too many failures within a sliding window.

    An attempt is counted when it starts, before its password is checked, and taken back when it
    succeeds: a burst of parallel guesses from one address cannot all be checked before the first
    failure is recorded. Kept in memory: each gateway replica counts its own (N replicas allow N
    times the budget); the per-account locks, which must hold across replicas, are in the database.
    """

    def __init__(self, *, max_failures: int, window_seconds: float, max_addresses: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def attempt(self, address: str) -> int | None:
        """Count an attempt from ``address`` as failed until it succeeds; or seconds until it may try."""
        now = time.monotonic()
        failures = self._recent(address, now)
        if failures is not None and len(failures) >= self.max_failures:
            return max(1, int(failures[0] + self.window - now) + 1)
        if len(self._failures) >= self.max_addresses:
            for key in list(self._failures)[: self.max_addresses // 10]:
                self._recent(key, now)
        self._failures.setdefault(address, deque(maxlen=self.max_failures * 2)).append(now)
        return None

    def succeeded(self, address: str) -> None:
        """Take back the attempt counted for a login from ``address`` that succeeded."""
        failures = self._recent(address, time.monotonic())
        if failures:
            failures.pop()
