"""Every query of courier webhooks: the replay guard and the audit rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.delivery.timeutil import utcnow
from services.delivery.webhooks.models import ProcessedWebhook, WebhookReceipt


async def claim(session: AsyncSession, *, carrier: str, webhook_id: str) -> bool:
    """Claim a webhook id for applying; False when it was claimed before (a replay).

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: no savepoint needed, since a conflict
    is not an error. On PostgreSQL a concurrent claim of the same id waits for the first one's
    transaction and then finds the conflict (or claims it, if that one rolled back).
    """
    ins = conflict_insert(session, ProcessedWebhook)
    stmt = (
        ins.values(carrier=carrier, webhook_id=webhook_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=[ProcessedWebhook.carrier, ProcessedWebhook.webhook_id])
        .returning(ProcessedWebhook.webhook_id)
    )
    return (await session.execute(stmt)).first() is not None


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
