"""Time as the kernel gives it: one injectable clock per service.

Business rules read "now" from ``kernel.clock`` (a route through its kernel dependency, a handler
or a service function through ``kernel_of(session)``), never from ``datetime.now`` directly, so a
test moves time with ``FakeClock`` instead of sleeping. Time measured for timeouts and metrics
(``time.perf_counter``, ``asyncio.sleep``) is not a rule's time and stays real.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo


@runtime_checkable
class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A clock a test sets and advances; it never moves by itself."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = _aware(start or datetime.now(UTC))

    def now(self) -> datetime:
        """The instant the test set."""
        return self.current

    def set_to(self, at: datetime) -> None:
        """Jump to ``at`` (aware)."""
        self.current = _aware(at)

    def set(self, day: date, hour: int = 10, *, tz: ZoneInfo = ZoneInfo("Asia/Shanghai")) -> None:
        """Jump to ``hour`` o'clock of ``day`` in ``tz`` (the hall's zone by default)."""
        self.current = datetime.combine(day, time(hour), tzinfo=tz)

    def advance(self, by: timedelta | float) -> None:
        """Move forward by ``by`` (a timedelta or seconds)."""
        self.current += by if isinstance(by, timedelta) else timedelta(seconds=by)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: a clock keeps timezone-aware times only")
    return at
