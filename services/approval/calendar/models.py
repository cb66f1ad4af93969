"""The working-day calendar as entered: one row per year with data, one per special day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.approval.db import Base


class CalendarYear(Base):
    """A year whose arrangement is known (from the package or entered by an administrator)."""

    __tablename__ = "workday_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(20))  # "package" | "admin"
    # Bumped on every change, so each process knows when to reload its cached calendar.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class CalendarDay(Base):
    """A statutory holiday or an adjusted working day (a weekend day made a working day)."""

    __tablename__ = "workday_calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "holiday" | "workday"
    name: Mapped[str | None] = mapped_column(String(60), nullable=True)
