"""Every query on supervision clocks, cards and visits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.supervision.models import Card, Clock, Visit


async def get_clock(session: AsyncSession, clock_id: str) -> Clock | None:
    """One clock, row-locked."""
    result = await session.execute(select(Clock).where(Clock.clock_id == clock_id).with_for_update())
    return result.scalar_one_or_none()


def add_clock(session: AsyncSession, clock: Clock) -> None:
    """Stage a clock."""
    session.add(clock)


async def get_card(session: AsyncSession, card_id: str) -> Card | None:
    """One card."""
    return await session.get(Card, card_id)


def add_card(session: AsyncSession, card: Card) -> None:
    """Stage a card."""
    session.add(card)


async def get_visit(session: AsyncSession, event_id: str) -> Visit | None:
    """One recorded trip."""
    return await session.get(Visit, event_id)


def add_visit(session: AsyncSession, visit: Visit) -> None:
    """Stage a trip."""
    session.add(visit)
