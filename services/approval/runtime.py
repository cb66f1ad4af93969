"""Approval's state on the kernel: settings, the kernel's clock, the hall's zone, the card rule.

``Runtime`` is the ``state`` of approval's kernel (``Kernel[ApprovalSettings, Runtime]``): a route
reads it through ``RuntimeDep``, a handler or service function that holds a session through
``runtime_of(session)`` (the kernel rides on every session). Tests pass a ``FakeClock`` to
``create_app(clock=...)`` to move time without sleeping.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.clock import SYSTEM_CLOCK, Clock
from owkernel.kernel import Kernel, kernel_of
from services.approval.settings import ApprovalSettings


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
    clock: Clock
    tz: ZoneInfo
    rule: CardRule
    # Set once the working-day calendar is in the database (at start, or by the card scan later).
    calendar_seeded: asyncio.Event = field(default_factory=asyncio.Event, compare=False)

    @classmethod
    def build(cls, settings: ApprovalSettings, clock: Clock | None = None) -> Runtime:
        """The runtime for ``settings`` (the system clock unless ``clock`` is given)."""
        return cls(
            settings=settings,
            clock=clock or SYSTEM_CLOCK,
            tz=ZoneInfo(settings.timezone),
            rule=CardRule(days_left=settings.yellow_days_left, used_ratio=settings.yellow_used_ratio),
        )

    def now(self) -> datetime:
        """The kernel clock's now."""
        return self.clock.now()

    def local_date(self, at: datetime) -> date:
        """The hall's calendar date of an instant."""
        return at.astimezone(self.tz).date()

    def today(self) -> date:
        """The hall's calendar date now."""
        return self.local_date(self.now())


ApprovalKernel = Kernel[ApprovalSettings, Runtime]


def runtime_of(session: AsyncSession) -> Runtime:
    """The runtime of the kernel whose database opened ``session``."""
    kernel: ApprovalKernel = kernel_of(session)
    return kernel.state
