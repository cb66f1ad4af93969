"""Queries of the finance bill: billable shipments by waybill time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.shipments.models import Shipment


def _billable(start: datetime, end: datetime) -> list[object]:
    # A waybill made (carrier assigned) in the month, not cancelled before pickup.
    return [
        Shipment.waybill_at >= start,
        Shipment.waybill_at < end,
        Shipment.carrier.is_not(None),
        Shipment.status != "cancelled",
    ]


BillRow = tuple[str | None, str, str, int, int]


async def totals(session: AsyncSession, *, start: datetime, end: datetime) -> Sequence[BillRow]:
    """Count and fee per (carrier, direction, zone)."""
    query = (
        select(
            Shipment.carrier,
            Shipment.direction,
            Shipment.zone,
            func.count(Shipment.id),
            func.coalesce(func.sum(Shipment.fee_fen), 0),
        )
        .where(*_billable(start, end))  # type: ignore[arg-type]
        .group_by(Shipment.carrier, Shipment.direction, Shipment.zone)
    )
    rows = (await session.execute(query)).all()
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


async def lines(session: AsyncSession, *, start: datetime, end: datetime, carrier: str | None) -> Sequence[Shipment]:
    """Every billable shipment of the month, in waybill order."""
    query = select(Shipment).where(*_billable(start, end))  # type: ignore[arg-type]
    if carrier is not None:
        query = query.where(Shipment.carrier == carrier)
    return (await session.execute(query.order_by(Shipment.waybill_at, Shipment.id))).scalars().all()
