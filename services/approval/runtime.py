"""What approval's handlers, routes and jobs share at run time: settings, "now", the card rule.

The runtime rides on every database session (``Session.info``), so an event handler, which only
receives a session, reads the same clock and rules as a route or the card scan. Tests inject
their own ``now`` to move time without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import Database
from services.approval.settings import ApprovalSettings

RUNTIME_KEY = "approval.runtime"


def utc_now() -> datetime:
    """The real time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class CardRule:
    """When a clock turns yellow: few working days left, or most of them used."""

    days_left: int = 1
    used_ratio: float = 0.8

    def yellow_offset(self, budget: int) -> int:
        """The working day (counted from the start) from which a clock of ``budget`` days is yellow."""
        by_ratio = math.ceil(self.used_ratio * budget - 1e-9)
        return max(0, min(by_ratio, budget - self.days_left))


@dataclass(frozen=True)
class Runtime:
    """Settings, the injectable clock, the hall's time zone and the card rule."""

    settings: ApprovalSettings
    now: Callable[[], datetime]
    tz: ZoneInfo
    rule: CardRule

    @classmethod
    def build(cls, settings: ApprovalSettings, now: Callable[[], datetime] | None = None) -> Runtime:
        """The runtime for ``settings`` (real time unless ``now`` is given)."""
        return cls(
            settings=settings,
            now=now or utc_now,
            tz=ZoneInfo(settings.timezone),
            rule=CardRule(days_left=settings.yellow_days_left, used_ratio=settings.yellow_used_ratio),
        )

    def local_date(self, at: datetime) -> date:
        """The hall's calendar date of an instant."""
        return at.astimezone(self.tz).date()

    def today(self) -> date:
        """The hall's calendar date now."""
        return self.local_date(self.now())


def attach_runtime(db: Database, runtime: Runtime) -> None:
    """Make ``runtime`` available on every session of ``db``."""
    db.sessionmaker.configure(info={RUNTIME_KEY: runtime})


def runtime_of(session: AsyncSession) -> Runtime:
    """The runtime attached to this session's database."""
    runtime = session.info.get(RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("approval runtime is not attached to this database")
    return runtime
