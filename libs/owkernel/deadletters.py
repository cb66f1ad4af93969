"""Dead letters: list them, and have one handled again once its cause is fixed.

An event that failed on every delivery (or that a handler declared poison) is parked in the
consuming service's ``dead_letters`` table and acknowledged, so NATS never offers it again; until
it is replayed, that service's view of the world is missing it. A replay runs the service's own
handler on the stored payload in one transaction with the inbox row, exactly as the consumer
would have: if the event was meanwhile handled (re-published by hand, say), the inbox says so and
nothing is applied twice. A replay that fails again keeps the letter, with the new error.

Operators reach this through each service's ``/ops/dead-letters`` (admin only; see
``owkernel.app``), not through the gateway: like ``/metrics`` it is per service and per database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.contextvars import bound_contextvars

from owkernel.contracts import UnknownEventError, decode
from owkernel.db import Database
from owkernel.errors import Conflict, NotFound
from owkernel.handlers import ConsumerGroup, apply_once, handled_ids
from owkernel.metrics import EVENTS_HANDLED
from owkernel.tables import KernelTables

log = structlog.get_logger("owkernel.deadletters")


@dataclass(frozen=True)
class Replayed:
    """What a replay did."""

    id: int
    event_id: str
    subject: str
    outcome: Literal["handled", "already handled"]


# --- queries ---------------------------------------------------------------------------------
async def page(session: AsyncSession, tables: KernelTables, *, after: int | None, limit: int) -> list[Any]:
    """Dead letters oldest first, ``limit`` of them after id ``after`` (a keyset page)."""
    letters = tables.dead_letters
    stmt = select(
        letters.c.id,
        letters.c.consumer,
        letters.c.event_id,
        letters.c.subject,
        letters.c.error,
        letters.c.deliveries,
        letters.c.created_at,
    ).order_by(letters.c.id)
    if after is not None:
        stmt = stmt.where(letters.c.id > after)
    return list((await session.execute(stmt.limit(limit))).all())


async def park(
    session: AsyncSession,
    tables: KernelTables,
    *,
    consumer: str,
    event_id: str | None,
    subject: str,
    payload: bytes,
    error: str,
    deliveries: int,
) -> None:
    """Keep a failed event as ``consumer``'s dead letter; one already parked for the same event
    (replayed by hand or redelivered from the stream, and failed again) takes the new error,
    deliveries and time instead of breaking the unique key, which would fail the whole batch and
    have it redelivered for ever rather than parked."""
    letters = tables.dead_letters
    values = {
        "consumer": consumer,
        "event_id": event_id,
        "subject": subject,
        "payload": payload,
        "error": error[:4000],
        "deliveries": deliveries,
        "created_at": datetime.now(UTC),
    }
    upsert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(letters).values(**values)
    changed = {key: stmt.excluded[key] for key in ("subject", "payload", "error", "deliveries", "created_at")}
    await session.execute(stmt.on_conflict_do_update(index_elements=["consumer", "event_id"], set_=changed))


async def _locked(session: AsyncSession, tables: KernelTables, letter_id: int) -> Any:
    # FOR UPDATE: two operators replaying the same letter at once apply it once; the second
    # waits, then finds it gone (404).
    letters = tables.dead_letters
    stmt = select(letters).where(letters.c.id == letter_id).with_for_update()
    return (await session.execute(stmt)).first()


# --- the use case ----------------------------------------------------------------------------
async def replay(db: Database, tables: KernelTables, group: ConsumerGroup, letter_id: int, *, by: str) -> Replayed:
    """Handle dead letter ``letter_id`` again; 404 if there is none, 409 if it still fails."""
    failure: str | None = None
    async with db.transaction() as session:
        row = await _locked(session, tables, letter_id)
        if row is None:
            raise NotFound(f"There is no dead letter {letter_id}.")
        try:
            envelope, data = decode(row.payload)
        except (UnknownEventError, ValidationError, ValueError) as exc:
            raise Conflict(f"Dead letter {letter_id} cannot be decoded by this release: {exc}") from exc
        handler = group.handlers.get(envelope.type)
        if handler is None:
            raise Conflict(f"{group.service} has no handler for {envelope.type}.")
        outcome: Literal["handled", "already handled"] = "already handled"
        if not await handled_ids(session, tables, row.consumer, [envelope.id]):
            try:
                with bound_contextvars(event_id=envelope.id, event_type=envelope.type):
                    await apply_once(session, tables, row.consumer, handler, data, envelope)
                outcome = "handled"
            except Exception as exc:  # noqa: BLE001 - whatever the handler raises, the letter stays
                failure = repr(exc)
        letters = tables.dead_letters
        if failure is None:
            await session.execute(delete(letters).where(letters.c.id == letter_id))
        else:
            await session.execute(
                update(letters)
                .where(letters.c.id == letter_id)
                .values(error=f"replay by {by}: {failure}"[:4000], deliveries=letters.c.deliveries + 1)
            )
    if failure is not None:
        log.warning("dead_letter.replay_failed", id=letter_id, event_id=envelope.id, by=by, error=failure)
        raise Conflict(f"Dead letter {letter_id} failed again: {failure}", event_id=envelope.id)
    EVENTS_HANDLED.labels(group.service, envelope.type, "replayed").inc()
    # The letter row is gone; this line and the inbox row are what remain of it.
    log.warning(
        "dead_letter.replayed", id=letter_id, event_id=envelope.id, subject=envelope.type, by=by, outcome=outcome
    )
    return Replayed(id=letter_id, event_id=envelope.id, subject=envelope.type, outcome=outcome)
