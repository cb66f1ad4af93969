"""A wake-up one loop sleeps on: the outbox relay (woken by a commit) and a consumer (by a message)."""

from __future__ import annotations

import asyncio


class Wakeup:
    """``set()`` wakes the sleeper now, or makes its next ``wait`` return at once.

    A bare future and a timer rather than ``asyncio.wait_for`` over ``Event.wait()``, which makes
    a task for every wait: 12.4 -> 4.6 us a wait, paid once per relay round and per arrival of
    events (issue 22). One sleeper at a time.
    """

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        """Wake the sleeper (or the next one)."""
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        """Forget a wake-up that came before the sleeper looked for itself."""
        self._set = False

    async def wait(self, timeout: float) -> None:
        """Until set, or ``timeout`` seconds passed; at once if set since the last wait. Clears."""
        if not self._set:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            expiry = loop.call_later(timeout, _expire, waiter)
            try:
                await waiter
            finally:
                expiry.cancel()
                self._waiter = None
        self._set = False


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
