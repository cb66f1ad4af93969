"""Certificates waiting at the window for their applicant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base


class Pickup(Base):
    """One certificate to collect at the window (at most one per application)."""

    __tablename__ = "pickups"
    __table_args__ = (Index("ix_pickups_status_created", "status", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_no: Mapped[str] = mapped_column(String(40), unique=True)
    applicant_id_number: Mapped[str] = mapped_column(String(40), index=True)
    certificate_no: Mapped[str | None] = mapped_column(String(80))
    window: Mapped[str] = mapped_column(String(20))
    # chosen (the applicant chose the window) | returned (mail failed) | no_address | address_invalid
    reason: Mapped[str] = mapped_column(String(30))
    # waiting | completed
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    clerk: Mapped[str | None] = mapped_column(String(120))
    collector_name: Mapped[str | None] = mapped_column(String(200))
    # Masked: enough to audit which document was shown, not a copy of it.
    collector_id_masked: Mapped[str | None] = mapped_column(String(40))
