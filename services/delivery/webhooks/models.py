"""Courier webhooks as they arrived (audit, pruned by age) and the webhook ids applied (replay guard)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base, BigId


class WebhookReceipt(Base):
    """A webhook as it arrived, with what we made of it.

    A verified webhook's body is kept whole; a refused one's (``REFUSED`` outcomes) only its first
    bytes, with ``body_bytes`` saying how long it was.
    """

    __tablename__ = "webhook_receipts"
    __table_args__ = (
        Index("ix_webhook_receipts_carrier_id", "carrier", "webhook_id"),
        # The pruning finds the refused rows, few, among months of verified ones.
        Index("ix_webhook_receipts_outcome", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(40))
    webhook_id: Mapped[str | None] = mapped_column(String(200))
    webhook_timestamp: Mapped[str | None] = mapped_column(String(40))
    signature: Mapped[str | None] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(Text)
    # The size that arrived (None on rows older than this column).
    body_bytes: Mapped[int | None] = mapped_column(Integer)
    # verified: accepted | not_applied | replay | invalid | unknown_tracking
    # refused:  too_large | unknown_carrier | bad_signature | stale
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
