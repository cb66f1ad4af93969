"""Inspection findings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Inspection(Base):
    """A problem found at a window or in a department, its penalty and its rectification."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_inspected_on", "inspected_on", "inspection_id"),)

    inspection_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    department: Mapped[str] = mapped_column(String(80), index=True)
    window: Mapped[str | None] = mapped_column(String(40))
    # The hall inspected ("CITY": the city's hall).
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    problem: Mapped[str] = mapped_column(Text)
    penalty: Mapped[str | None] = mapped_column(Text)
    penalty_points: Mapped[int] = mapped_column(Integer)
    inspected_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rectification_id: Mapped[str | None] = mapped_column(String(40))
