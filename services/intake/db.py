"""Intake's declarative base (its own metadata: only intake's tables), kernel tables and outbox."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from owkernel.db import new_metadata
from owkernel.outbox import Outbox
from owkernel.tables import kernel_tables


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
    from services.intake.departments import models as _departments  # noqa: F401
    from services.intake.halls import models as _halls  # noqa: F401
    from services.intake.projects import models as _projects  # noqa: F401
