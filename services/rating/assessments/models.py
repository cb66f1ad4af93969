"""Published monthly assessments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Assessment(Base):
    """One window's or department's 100-point score for one month, with its breakdown."""

    __tablename__ = "assessments"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    # The hall whose window or department it is; for scope "hall", the hall itself (= key).
    hall: Mapped[str] = mapped_column(String(20), primary_key=True, server_default="CITY")
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # window | department | hall
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    weights: Mapped[dict[str, float]] = mapped_column(JSON)
    computed_by: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
