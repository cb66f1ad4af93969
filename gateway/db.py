"""Gateway's declarative base (its own metadata: only gateway's tables), kernel tables and outbox."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from owkernel.db import new_metadata
from owkernel.outbox import Outbox
from owkernel.tables import kernel_tables


class Base(DeclarativeBase):
    """Base of every gateway model."""

    metadata = new_metadata()


tables = kernel_tables(Base.metadata)
outbox = Outbox(tables, source="gateway")


def import_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (Alembic, tests)."""
    import gateway.identity.models
    import gateway.payments.models
    import gateway.province.models
    import gateway.tokens.models  # noqa: F401
