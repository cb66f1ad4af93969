"""Delivery's declarative base (its own metadata: only delivery's tables), kernel tables and outbox."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from owkernel.db import new_metadata
from owkernel.outbox import Outbox
from owkernel.tables import BigId, kernel_tables


class Base(DeclarativeBase):
    """Base of every delivery model."""

    metadata = new_metadata()


tables = kernel_tables(Base.metadata)
outbox = Outbox(tables, source="delivery")

__all__ = ["Base", "BigId", "import_models", "outbox", "tables"]


def import_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (Alembic, tests)."""
    from services.delivery.known_applications import models as _applications  # noqa: F401
    from services.delivery.partners import models as _partners  # noqa: F401
    from services.delivery.pickups import models as _pickups  # noqa: F401
    from services.delivery.shipments import models as _shipments  # noqa: F401
    from services.delivery.webhooks import models as _webhooks  # noqa: F401
