"""Every query on supervision clocks, cards and visits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from owkernel.db import upsert
from services.rating.known_supervision.models import Card, Clock, Visit

# Every application's clocks pass through these: each statement is built once (per dialect and
# set of columns) and given its values as bound parameters, since building a statement and its
# cache key per event cost more CPU than running it.
_CLOCKS = cast(Table, Clock.__table__)
_UPDATE_CLOCK = update(_CLOCKS).where(_CLOCKS.c.clock_id == bindparam("b_clock_id")).returning(_CLOCKS.c.clock_id)


async def upsert_clock(session: AsyncSession, *, clock_id: str, values: dict[str, Any]) -> None:
    """Insert a clock, or overwrite ``values`` of the one already there (its closing is kept).

    One ``INSERT ... ON CONFLICT DO UPDATE`` instead of a locked read and a write; on PostgreSQL
    the conflicting row is locked just as the read locked it.
    """
    await upsert(session, _CLOCKS, {"clock_id": clock_id, **values}, key="clock_id", refresh=tuple(values))


async def _update_clock(session: AsyncSession, clock_id: str, values: dict[str, Any]) -> bool:
    result = await session.execute(_UPDATE_CLOCK, {"b_clock_id": clock_id, **values})
    # A Clock already in the session (none is, on the consumer paths) gets the new values in
    # Python, as an ORM-enabled UPDATE would give them, with no extra statement.
    loaded = session.identity_map.get(session.identity_key(Clock, clock_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)
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
