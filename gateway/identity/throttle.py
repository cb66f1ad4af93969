"""Login throttling per address (in memory; per account it is the account's lock in the database)."""

from __future__ import annotations

import time
from collections import deque


class AddressThrottle:
    """Refuses logins from an address after too many failures within a sliding window."""

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

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        now = time.monotonic()
        failures = self._recent(address, now)
        if failures is None or len(failures) < self.max_failures:
            return None
        return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, address: str) -> None:
        """Count a failed login from ``address``."""
        now = time.monotonic()
        if len(self._failures) >= self.max_addresses:
            for key in list(self._failures)[: self.max_addresses // 10]:
                self._recent(key, now)
        self._failures.setdefault(address, deque(maxlen=self.max_failures * 2)).append(now)
