"""Rating's declarative base (its own metadata: only rating's tables), kernel tables and outbox."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from owkernel.db import new_metadata
from owkernel.outbox import Outbox
from owkernel.tables import kernel_tables


class Base(DeclarativeBase):
    """Base of every rating model."""

    metadata = new_metadata()


tables = kernel_tables(Base.metadata)
outbox = Outbox(tables, source="rating")


def import_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (Alembic, tests)."""
    from services.rating.assessments import models as _assessments  # noqa: F401
    from services.rating.figures import models as _figures  # noqa: F401
    from services.rating.inspections import models as _inspections  # noqa: F401
    from services.rating.kiosks import models as _kiosks  # noqa: F401
    from services.rating.known_applications import models as _known_applications  # noqa: F401
    from services.rating.known_supervision import models as _known_supervision  # noqa: F401
    from services.rating.messages import models as _messages  # noqa: F401
    from services.rating.rectifications import models as _rectifications  # noqa: F401
    from services.rating.reviews import models as _reviews  # noqa: F401
    from services.rating.surveys import models as _surveys  # noqa: F401
