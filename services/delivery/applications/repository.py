"""Queries of delivery's application copies."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.applications.models import DeliveryApplication


async def get(session: AsyncSession, application_no: str) -> DeliveryApplication | None:
    """One application, or None before its accepted event arrived."""
    return await session.get(DeliveryApplication, application_no)
