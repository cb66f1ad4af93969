"""Shipments (outbound certificates, inbound materials) and their status history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base, BigId


class Shipment(Base):
    """One waybill with one courier partner.

    ``(application_no, direction, attempt)`` is unique: a redelivered certificate event can
    never make a second first attempt; a re-ship after a failure is the next attempt.
    """

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("application_no", "direction", "attempt"),
        UniqueConstraint("carrier", "tracking_no"),
        Index("ix_shipments_created", "created_at", "id"),
        Index("ix_shipments_waybill_at", "waybill_at"),
        Index("ix_shipments_township", "county_code", "township_code"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_no: Mapped[str] = mapped_column(String(40), index=True)
    applicant_id_number: Mapped[str] = mapped_column(String(40), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer)
    # pending (no partner available yet), created, picked_up, in_transit, delivered, failed, cancelled
    status: Mapped[str] = mapped_column(String(20))
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(12))
    county_code: Mapped[str] = mapped_column(String(6))
    township_code: Mapped[str] = mapped_column(String(9))
    address_detail: Mapped[str] = mapped_column(String(500))
    recipient: Mapped[str] = mapped_column(String(200))
    recipient_phone: Mapped[str] = mapped_column(String(40))
    zone: Mapped[str] = mapped_column(String(20))
    # Owed by finance to the carrier; the applicant never pays for delivery.
    fee_fen: Mapped[int] = mapped_column(Integer, default=0)
    certificate_no: Mapped[str | None] = mapped_column(String(80))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the partner made the waybill: the fee falls in this month's bill.
    waybill_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The courier's time of the last status applied.
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ShipmentEvent(Base):
    """One status report, applied or not (a late or repeated one is kept, marked not applied)."""

    __tablename__ = "shipment_events"
    __table_args__ = (Index("ix_shipment_events_shipment", "shipment_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(String(40), ForeignKey("shipments.id"))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(20))
    applied: Mapped[bool] = mapped_column(Boolean)
    webhook_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(300))
