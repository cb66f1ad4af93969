"""The registry of halls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.intake.db import Base


class Hall(Base):
    """A government service hall: the city's ("CITY", made by the migration) or a county's."""

    __tablename__ = "halls"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))  # city | county
    # The 12-digit administrative division code of the city or county the hall serves.
    region_code: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
