"""Partner availability (set by an admin)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base


class PartnerAvailability(Base):
    """Whether a partner takes new waybills (no row: available)."""

    __tablename__ = "partner_availability"

    carrier: Mapped[str] = mapped_column(String(40), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(300))
    updated_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
