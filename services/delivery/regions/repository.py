"""Queries of the coverage report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.shipments.models import Shipment


async def coverage(
    session: AsyncSession,
    *,
    direction: str,
    county_prefix: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Sequence[tuple[str, str, int, int, int]]:
    """Shipments per (county, township): all, delivered, failed; cancelled ones left out."""
    query = select(
        Shipment.county_code,
        Shipment.township_code,
        func.count(Shipment.id),
        func.coalesce(func.sum(case((Shipment.status == "delivered", 1), else_=0)), 0),
        func.coalesce(func.sum(case((Shipment.status == "failed", 1), else_=0)), 0),
    ).where(Shipment.direction == direction, Shipment.status != "cancelled")
    if county_prefix:
        query = query.where(Shipment.county_code.startswith(county_prefix, autoescape=True))
    if since is not None:
        query = query.where(Shipment.created_at >= since)
    if until is not None:
        query = query.where(Shipment.created_at < until)
    query = query.group_by(Shipment.county_code, Shipment.township_code).order_by(
        Shipment.county_code, Shipment.township_code
    )
    rows = (await session.execute(query)).all()
    return [(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]
