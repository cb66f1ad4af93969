"""Yellow and red cards, and the other things supervision keeps on record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.approval.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Card(Base):
    """A yellow (near the deadline) or red (overdue) card on one clock; one per clock and color
    (the card id is "<clock id>/<color>", so a second one cannot exist)."""

    __tablename__ = "supervision_cards"
    __table_args__ = (
        Index("ix_supervision_cards_raised", "raised_at", "card_id"),
        Index("ix_supervision_cards_department_color", "department", "color"),
        Index("ix_supervision_cards_hall_raised", "hall", "raised_at", "card_id"),
    )

    card_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    clock_id: Mapped[str] = mapped_column(String(36))
    color: Mapped[str] = mapped_column(String(10))
    clock_kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    application_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    project_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column()
    # Its clock's hall.
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")


class SupervisionRecord(Base):
    """Something supervision must see that is not a clock: an overdue material, a failed delivery."""

    __tablename__ = "supervision_records"
    __table_args__ = (Index("ix_supervision_records_at", "at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))  # material_overdue | shipment_failed
    application_no: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column()
