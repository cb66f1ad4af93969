"""Queries of partner availability."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.partners.models import PartnerAvailability


async def unavailable_carriers(session: AsyncSession) -> set[str]:
    """Carriers an admin marked as not taking new waybills."""
    rows = await session.execute(select(PartnerAvailability.carrier).where(PartnerAvailability.available.is_(False)))
    return set(rows.scalars())


async def availability(session: AsyncSession) -> dict[str, PartnerAvailability]:
    """Every availability row, by carrier."""
    rows = (await session.execute(select(PartnerAvailability))).scalars()
    return {row.carrier: row for row in rows}


async def get_availability(session: AsyncSession, carrier: str) -> PartnerAvailability | None:
    """One carrier's availability row."""
    return await session.get(PartnerAvailability, carrier)
