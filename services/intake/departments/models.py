"""The registry of departments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.intake.db import Base


class Department(Base):
    """A department that decides items: the code items carry, and its Chinese and English names."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
