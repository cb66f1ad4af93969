"""Approval's declarative base (its own metadata: only approval's tables), kernel tables and outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from owkernel.contracts import EventData, encode, make_envelope
from owkernel.db import UtcDateTime, new_metadata, request_commit_hooks
from owkernel.logs import current_request_id
from owkernel.outbox import Outbox
from owkernel.tables import kernel_tables


class Base(DeclarativeBase):
    """Base of every approval model."""

    metadata = new_metadata()
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012 - SQLAlchemy reads it as is


tables = kernel_tables(Base.metadata)
outbox = Outbox(tables, source="approval")


async def add_events(session: AsyncSession, events: Sequence[EventData]) -> None:
    """Stage many events in one INSERT (the card scan raises thousands at once).

    The rows are exactly what ``Outbox.add`` writes, one statement instead of one per event.
    """
    if not events:
        return
    correlation = current_request_id()
    rows = []
    for data in events:
        envelope = make_envelope(data, source=outbox.source, correlation_id=correlation)
        rows.append(
            {
                "event_id": envelope.id,
                "subject": envelope.type,
                "payload": encode(envelope),
                "correlation_id": envelope.correlation_id,
                "created_at": envelope.occurred_at,
                "attempts": 0,
            }
        )
    await session.execute(insert(tables.outbox), rows)
    request_commit_hooks(session)


def import_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (Alembic, tests)."""
    from services.approval.calendar import models as _calendar
    from services.approval.certificates import models as _certificates
    from services.approval.clocks import models as _clocks
    from services.approval.reminders import models as _reminders
    from services.approval.supervision import models as _supervision
    from services.approval.tasks import models as _tasks

    del _calendar, _certificates, _clocks, _reminders, _supervision, _tasks
