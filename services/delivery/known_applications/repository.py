"""Queries of delivery's application copies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.delivery.known_applications.models import DeliveryApplication


async def get(session: AsyncSession, application_no: str, *, lock: bool = False) -> DeliveryApplication | None:
    """One application, or None before its accepted event arrived; ``lock`` holds its row (FOR UPDATE)
    until the transaction ends, so checks made for it are not raced by another request."""
    return await session.get(DeliveryApplication, application_no, with_for_update=lock)


async def upsert_accepted(
    session: AsyncSession, *, application_no: str, values: dict[str, Any], created_at: datetime
) -> None:
    """Insert an accepted application, or refresh its copy while no certificate was issued.

    One ``INSERT ... ON CONFLICT DO UPDATE ... WHERE certificate_no IS NULL`` instead of a read
    and a write; on PostgreSQL the conflicting row is locked, as the read-then-write never did.
    """
    ins = conflict_insert(session, DeliveryApplication)
    stmt = ins.values(application_no=application_no, created_at=created_at, **values).on_conflict_do_update(
        index_elements=[DeliveryApplication.application_no],
        set_=values,
        where=DeliveryApplication.certificate_no.is_(None),
    )
    await session.execute(stmt)
