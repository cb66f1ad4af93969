"""Every query of payments and provider notifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.payments.models import Payment, PaymentNotification


async def get(session: AsyncSession, payment_id: str) -> Payment | None:
    """A payment by id."""
    return await session.get(Payment, payment_id)


async def add(session: AsyncSession, payment: Payment) -> Payment:
    """Insert a payment."""
    session.add(payment)
    await session.flush()
    return payment


async def latest_for(session: AsyncSession, application_no: str, *, status: str) -> Payment | None:
    """The newest payment of an application in ``status``."""
    return (
        await session.execute(
            select(Payment)
            .where(Payment.application_no == application_no, Payment.status == status)
            .order_by(Payment.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def transition(session: AsyncSession, payment_id: str, *, to: str, **values: Any) -> bool:
    """Move a pending payment to ``to``; False if it was no longer pending (a race lost)."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == "pending")
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def due_pending(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[Payment]:
    """Pending payments past their time limit."""
    return (
        (
            await session.execute(
                select(Payment)
                .where(Payment.status == "pending", Payment.expires_at <= now)
                .order_by(Payment.expires_at)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def notification(session: AsyncSession, notification_id: str) -> PaymentNotification | None:
    """A provider notification already handled."""
    return await session.get(PaymentNotification, notification_id)


async def add_notification(session: AsyncSession, note: PaymentNotification) -> None:
    """Remember a handled notification."""
    session.add(note)
    await session.flush()
