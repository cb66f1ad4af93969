"""Every query on supervision clocks, cards and visits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.rating.known_supervision.models import Card, Clock, Visit


async def upsert_clock(session: AsyncSession, *, clock_id: str, values: dict[str, Any]) -> None:
    """Insert a clock, or overwrite ``values`` of the one already there (its closing is kept).

    One ``INSERT ... ON CONFLICT DO UPDATE`` instead of a locked read and a write; on PostgreSQL
    the conflicting row is locked just as the read locked it.
    """
    ins = conflict_insert(session, Clock)
    stmt = ins.values(clock_id=clock_id, **values).on_conflict_do_update(index_elements=[Clock.clock_id], set_=values)
    await session.execute(stmt)


async def _update_clock(session: AsyncSession, clock_id: str, values: dict[str, Any]) -> bool:
    # ORM-enabled UPDATE with the default synchronisation: a Clock already in the session (none
    # is, on the consumer paths) gets the new values in Python, with no extra statement.
    result = await session.execute(
        update(Clock).where(Clock.clock_id == clock_id).values(**values).returning(Clock.clock_id)
    )
    return result.scalar_one_or_none() is not None


async def reschedule_clock(session: AsyncSession, clock_id: str, *, due_date: date) -> bool:
    """Move a clock's due date; False when the clock is not known."""
    return await _update_clock(session, clock_id, {"due_date": due_date})


async def close_clock(session: AsyncSession, clock_id: str, *, closed_at: datetime, on_time: bool) -> bool:
    """Record a clock's stop; False when the clock is not known."""
    return await _update_clock(session, clock_id, {"closed_at": closed_at, "on_time": on_time})


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
