"""Appointment tables: slots a window opens (with capacity) and the bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from owkernel.tables import BigId
from services.intake.db import Base


class AppointmentSlot(Base):
    """A slot of one window: opened by staff, or a weekday default written on its first booking."""

    __tablename__ = "appointment_slots"

    # Each hall's windows have their own slots ("CITY": the city's hall).
    hall: Mapped[str] = mapped_column(String(20), primary_key=True, server_default="CITY")
    window: Mapped[str] = mapped_column(String(20), primary_key=True)
    # The slot's local start, "YYYY-MM-DDTHH:MM": what clients book.
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    opened_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (Index("ix_appointment_slots_hall_window_day", "hall", "window", "day"),)


class Appointment(Base):
    """One booking."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    appointment_id: Mapped[str] = mapped_column(String(32), unique=True)
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    window: Mapped[str] = mapped_column(String(20))
    slot: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    application_no: Mapped[str | None] = mapped_column(String(32))
    item_code: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # booked | cancelled | attended
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_appointments_id_number_id", "id_number", "id"),
        Index("ix_appointments_window_day", "window", "day"),
    )
