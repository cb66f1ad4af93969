"""Approval's declarative base (its own metadata: only approval's tables), kernel tables and outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from owkernel.contracts import EventData
from owkernel.db import UtcDateTime, new_metadata
from owkernel.outbox import Outbox
from owkernel.tables import kernel_tables


class Base(DeclarativeBase):
    """Base of every approval model."""

    metadata = new_metadata()
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012 - SQLAlchemy reads it as is


tables = kernel_tables(Base.metadata)
outbox = Outbox(tables, source="approval")


async def add_events(session: AsyncSession, events: Sequence[EventData]) -> None:
    """Stage many events in one INSERT (the card scan raises thousands at once)."""
    await outbox.add_many(session, events)


def import_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (Alembic, tests)."""
    from services.approval.calendar import models as _calendar
    from services.approval.certificates import models as _certificates
    from services.approval.clocks import models as _clocks
    from services.approval.reminders import models as _reminders
    from services.approval.supervision import models as _supervision
    from services.approval.tasks import models as _tasks

    del _calendar, _certificates, _clocks, _reminders, _supervision, _tasks
