"""Every query of courier webhooks: the replay guard and the audit rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from owkernel.db import conflict_insert, stage_rows
from owkernel.kernel import clock_of
from services.delivery.webhooks.models import ProcessedWebhook, WebhookReceipt

_RECEIPTS = cast(Table, WebhookReceipt.__table__)


async def claim(session: AsyncSession, *, carrier: str, webhook_id: str) -> bool:
    """Claim a webhook id for applying; False when it was claimed before (a replay).

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: no savepoint needed, since a conflict
    is not an error. On PostgreSQL a concurrent claim of the same id waits for the first one's
    transaction and then finds the conflict (or claims it, if that one rolled back).
    """
    params = {"carrier": carrier, "webhook_id": webhook_id, "processed_at": clock_of(session).now()}
    return (await session.execute(_claim_statement(session), params)).first() is not None


# Every webhook claims its id: the statement is built once per dialect, not once per webhook
# (building it and its cache key cost more than the rest of the claim; issue 22).
_CLAIM: dict[str, Executable] = {}


def _claim_statement(session: AsyncSession) -> Executable:
    dialect = session.get_bind().dialect.name
    stmt = _CLAIM.get(dialect)
    if stmt is None:
        table = cast(Table, ProcessedWebhook.__table__)
        stmt = _CLAIM[dialect] = (
            conflict_insert(session, table)
            .on_conflict_do_nothing(index_elements=[table.c.carrier, table.c.webhook_id])
            .returning(table.c.webhook_id)
        )
    return stmt


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


async def add_receipt(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep the audit row of a webhook, its fields final: staged, written with the commit's one
    INSERT of each staged table (inside a SAVEPOINT, at once)."""
    if not await stage_rows(session, _RECEIPTS, [row]):
        await session.execute(insert(_RECEIPTS), [row])


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
