"""Intake's declarative base (its own metadata: only intake's tables), kernel tables and outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from owkernel.db import new_metadata
from owkernel.outbox import Outbox
from owkernel.tables import kernel_tables


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on both backends.

    PostgreSQL keeps the offset; SQLite keeps only the wall time. Stored in UTC and read back
    as UTC, every time intake returns is aware, whichever database it runs on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware datetimes only, stored as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("intake stores timezone-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """UTC, aware."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every intake model."""

    metadata = new_metadata()


tables = kernel_tables(Base.metadata)
outbox = Outbox(tables, source="intake")


def import_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (Alembic, tests)."""
    from services.intake.applications import models as _applications  # noqa: F401
    from services.intake.appointments import models as _appointments  # noqa: F401
    from services.intake.catalog import models as _catalog  # noqa: F401
    from services.intake.consultations import models as _consultations  # noqa: F401
    from services.intake.projects import models as _projects  # noqa: F401
