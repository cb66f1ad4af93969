"""Registered kiosks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Kiosk(Base):
    """A rating device on a window desk; only a hash of its key is kept."""

    __tablename__ = "kiosks"

    kiosk_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    window: Mapped[str] = mapped_column(String(40))
    # The hall whose window desk it stands on ("CITY": the city's hall).
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    department: Mapped[str | None] = mapped_column(String(80))
    label: Mapped[str | None] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_vote_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The hourly cap counts votes in a window that starts with the first vote after the last one ended.
    hour_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hour_votes: Mapped[int] = mapped_column(Integer, default=0)
