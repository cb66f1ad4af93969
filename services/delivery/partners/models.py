"""Partner availability (set by an admin) and the simulated couriers' persisted work queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base, BigId


class PartnerAvailability(Base):
    """Whether a partner takes new waybills (no row: available)."""

    __tablename__ = "partner_availability"

    carrier: Mapped[str] = mapped_column(String(40), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(300))
    updated_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SimCourierJob(Base):
    """A simulated courier's parcel: the statuses it still has to report, persisted so a
    restart of the process resumes where it stopped."""

    __tablename__ = "sim_courier_jobs"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_no"),
        Index("ix_sim_courier_jobs_due", "done", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_no: Mapped[str] = mapped_column(String(64))
    # Comma-separated statuses to report in order, e.g. "picked_up,in_transit,delivered".
    plan: Mapped[str] = mapped_column(String(200))
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    # When the next report is due: one pace after the previous one, later after a failed call,
    # and pushed out while a worker holds the job (a claim).
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
