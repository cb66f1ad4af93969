"""What a service declares to handle events, and how one event is applied exactly once.

A service's ``ConsumerGroup`` maps contract subjects to handlers; a handler raises ``RetryLater``
or ``PoisonEvent`` to say what the consumer should do with an event it cannot apply. The inbox
(one row per handled event id and consumer) is what makes handling idempotent: ``apply_once``
writes it with the handler's effects, and ``handled_ids`` reads it. The stream loop that feeds
these lives in ``owkernel.consumer``, a dead letter's replay in ``owkernel.deadletters``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts import REGISTRY, Envelope, EventData, spec_for
from owkernel.tables import KernelTables

E = TypeVar("E", bound=EventData)
Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]


class RetryLater(Exception):  # noqa: N818 - reads as what the handler asks for
    """Raise from a handler when the event cannot be applied yet (e.g. it arrived before the
    event it follows): it is redelivered after a back-off, never applied wrongly."""


class PoisonEvent(Exception):  # noqa: N818
    """Raise from a handler when the event can never be applied: dead-lettered at once."""


@dataclass
class ConsumerGroup:
    """The event handlers of one service, by contract subject."""

    service: str
    handlers: dict[str, Handler] = field(default_factory=dict)

    def on(self, model: type[E]) -> Callable[[Callable[[AsyncSession, E, Envelope], Awaitable[None]]], Handler]:
        """Register a handler for an event model: ``async def h(session, data, envelope)``."""
        subject = spec_for(model).subject

        def register(fn: Callable[[AsyncSession, E, Envelope], Awaitable[None]]) -> Handler:
            if subject in self.handlers:
                raise ValueError(f"{self.service} handles {subject} twice")
            self.handlers[subject] = fn
            return fn

        return register

    def subjects_by_producer(self) -> dict[str, list[str]]:
        """Handled subjects grouped by the stream (producer) that holds them."""
        out: dict[str, list[str]] = {}
        for subject in sorted(self.handlers):
            out.setdefault(REGISTRY[subject].producer, []).append(subject)
        return out


async def handled_ids(session: AsyncSession, tables: KernelTables, consumer: str, ids: list[str]) -> set[str]:
    """Which of these event ids ``consumer`` has handled already (its inbox rows)."""
    if not ids:
        return set()
    inbox = tables.inbox
    rows = await session.execute(
        select(inbox.c.event_id).where(inbox.c.consumer == consumer, inbox.c.event_id.in_(ids))
    )
    return set(rows.scalars())


async def apply_once(
    session: AsyncSession, tables: KernelTables, consumer: str, handler: Handler, data: EventData, envelope: Envelope
) -> None:
    """Apply one event with its inbox row, in a SAVEPOINT: if the handler raises, neither stays.

    The one way an event takes effect outside the fast batch path: the consumer's isolated retry
    and a dead letter's replay both come here, so both leave the same proof of handling.
    """
    async with session.begin_nested():
        await session.execute(
            insert(tables.inbox).values(
                consumer=consumer, event_id=envelope.id, subject=envelope.type, handled_at=datetime.now(UTC)
            )
        )
        await handler(session, data, envelope)
