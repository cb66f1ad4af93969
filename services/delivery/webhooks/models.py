"""Every raw courier webhook (audit) and the webhook ids already applied (replay guard)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base, BigId


class WebhookReceipt(Base):
    """A webhook exactly as it arrived, with what we made of it."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (Index("ix_webhook_receipts_carrier_id", "carrier", "webhook_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(40))
    webhook_id: Mapped[str | None] = mapped_column(String(200))
    webhook_timestamp: Mapped[str | None] = mapped_column(String(40))
    signature: Mapped[str | None] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(Text)
    # accepted | duplicate | replay | bad_signature | stale | invalid | unknown_tracking | unknown_carrier
    outcome: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(String(500))
    shipment_id: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ProcessedWebhook(Base):
    """A verified webhook id that was applied: the same id again changes nothing."""

    __tablename__ = "processed_webhooks"

    carrier: Mapped[str] = mapped_column(String(40), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)
