"""Consultation table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from owkernel.tables import BigId
from services.intake.db import Base


class Consultation(Base):
    """A question on a service item and its staff reply, on a reply clock."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consultation_id: Mapped[str] = mapped_column(String(32), unique=True)
    item_code: Mapped[str] = mapped_column(String(40))
    item_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    asker_subject_id: Mapped[str] = mapped_column(String(64))
    asker_id_number: Mapped[str | None] = mapped_column(String(32))
    asker_name: Mapped[str | None] = mapped_column(String(200))
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reply_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # open | replied
    answer: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(120))
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # From the approval service's reply clock: when it is due, and whether it was met.
    due_date: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_consultations_asker_id", "asker_subject_id", "id"),
        Index("ix_consultations_department_id", "department", "id"),
    )
