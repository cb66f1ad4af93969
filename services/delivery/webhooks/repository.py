"""Every query of courier webhooks: the replay guard and the audit rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from owkernel.kernel import clock_of
from services.delivery.webhooks.models import ProcessedWebhook, WebhookReceipt


async def claim(session: AsyncSession, *, carrier: str, webhook_id: str) -> bool:
    """Claim a webhook id for applying; False when it was claimed before (a replay).

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: no savepoint needed, since a conflict
    is not an error. On PostgreSQL a concurrent claim of the same id waits for the first one's
    transaction and then finds the conflict (or claims it, if that one rolled back).
    """
    ins = conflict_insert(session, ProcessedWebhook)
    stmt = (
        ins.values(carrier=carrier, webhook_id=webhook_id, processed_at=clock_of(session).now())
        .on_conflict_do_nothing(index_elements=[ProcessedWebhook.carrier, ProcessedWebhook.webhook_id])
        .returning(ProcessedWebhook.webhook_id)
    )
    return (await session.execute(stmt)).first() is not None


async def unclaim(session: AsyncSession, *, carrier: str, webhook_id: str) -> None:
    """Let go of a claim made in this transaction (its report found no parcel to apply to)."""
    await session.execute(
        delete(ProcessedWebhook).where(ProcessedWebhook.carrier == carrier, ProcessedWebhook.webhook_id == webhook_id)
    )


async def already_processed(session: AsyncSession, *, carrier: str, webhook_id: str) -> bool:
    """True when this webhook id was applied before."""
    found = await session.scalar(
        select(ProcessedWebhook.webhook_id).where(
            ProcessedWebhook.carrier == carrier, ProcessedWebhook.webhook_id == webhook_id
        )
    )
    return found is not None


def add_receipt(session: AsyncSession, receipt: WebhookReceipt) -> None:
    """Stage the audit row of a webhook, its fields final: written once, with the commit."""
    session.add(receipt)


async def delete_received_before(
    session: AsyncSession, *, cutoff: datetime, outcomes: Sequence[str] | None = None, limit: int
) -> int:
    """Delete up to ``limit`` receipts received before ``cutoff`` (of these outcomes), oldest first.

    Safe in several replicas at once: a row another replica deleted meanwhile is simply not
    deleted twice (PostgreSQL re-checks a row it waited for; SQLite has one writer).
    """
    chosen = select(WebhookReceipt.id).where(WebhookReceipt.received_at < cutoff)
    if outcomes is not None:
        chosen = chosen.where(WebhookReceipt.outcome.in_(outcomes))
    stmt = delete(WebhookReceipt).where(WebhookReceipt.id.in_(chosen.order_by(WebhookReceipt.id).limit(limit)))
    result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def newest_id_beyond(session: AsyncSession, *, outcomes: Sequence[str], keep: int) -> int | None:
    """The id of the newest receipt of these outcomes past the ``keep`` newest (None: none past)."""
    found = await session.scalar(
        select(WebhookReceipt.id)
        .where(WebhookReceipt.outcome.in_(outcomes))
        .order_by(WebhookReceipt.id.desc())
        .offset(keep)
        .limit(1)
    )
    return None if found is None else int(found)


async def delete_up_to(session: AsyncSession, *, last_id: int, outcomes: Sequence[str], limit: int) -> int:
    """Delete up to ``limit`` receipts of these outcomes with an id up to ``last_id``, oldest first."""
    chosen = (
        select(WebhookReceipt.id)
        .where(WebhookReceipt.outcome.in_(outcomes), WebhookReceipt.id <= last_id)
        .order_by(WebhookReceipt.id)
        .limit(limit)
    )
    result = await session.execute(delete(WebhookReceipt).where(WebhookReceipt.id.in_(chosen)))
    return int(result.rowcount)  # type: ignore[attr-defined]
