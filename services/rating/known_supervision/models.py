"""Supervision clocks and cards (from approval) and applicants' trips (from intake)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Clock(Base):
    """A supervision clock, for the on-time rate of the assessment."""

    __tablename__ = "rating_clocks"
    __table_args__ = (Index("ix_rating_clocks_closed_at", "closed_at"),)

    clock_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(80))
    application_no: Mapped[str | None] = mapped_column(String(40))
    started_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)


class Card(Base):
    """A yellow or red card raised by approval's supervision engine."""

    __tablename__ = "rating_cards"
    __table_args__ = (Index("ix_rating_cards_raised_at", "raised_at"),)

    card_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    clock_id: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(80))
    application_no: Mapped[str | None] = mapped_column(String(40))
    color: Mapped[str] = mapped_column(String(8))
    due_date: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Visit(Base):
    """A trip an applicant made for an application (its absence makes the application fully online)."""

    __tablename__ = "applicant_trips"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_no: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
