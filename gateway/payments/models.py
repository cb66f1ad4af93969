"""Payment orders of the online payment stub and the provider notifications seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from owkernel.db import UtcDateTime


class Payment(Base):
    """An order to pay one application's fee: pending -> paid | failed | expired."""

    __tablename__ = "payments"
    # One pending order per application: two payers racing cannot open two (the loser gets 409).
    __table_args__ = (
        Index(
            "uq_payments_one_pending",
            "application_no",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_no: Mapped[str] = mapped_column(String(64), index=True)
    payer_subject: Mapped[str] = mapped_column(String(64))
    payer_id_number: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure_reason: Mapped[str | None] = mapped_column(String(200))


class PaymentNotification(Base):
    """A provider callback already handled (a replay of it changes nothing)."""

    __tablename__ = "payment_notifications"

    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # applied | ignored
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
