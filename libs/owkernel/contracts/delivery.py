"""Events delivery publishes (stream DELIVERY)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from owkernel.contracts._base import EventData, event

ShipmentStatus = Literal["created", "picked_up", "in_transit", "delivered", "failed", "returned"]


@event("delivery.shipment.created", summary="A waybill was made with a courier partner.")
class ShipmentCreated(EventData):
    shipment_id: str
    application_no: str
    direction: Literal["outbound", "inbound"] = "outbound"
    carrier: str
    tracking_no: str
    region_code: str | None = None
    # 1 for the first waybill, 2 for a re-ship after a failed delivery...
    attempt: int = 1
    # Owed by finance to the carrier, never by the applicant.
    fee_fen: int | None = None


@event(
    "delivery.shipment.status_changed",
    summary="The courier moved a shipment's status (an outbound delivery is delivery.shipment.delivered alone).",
    version=2,
)
class ShipmentStatusChanged(EventData):
    """Version 2: status `delivered` comes only for an inbound shipment. An outbound one's delivery
    is announced once, by delivery.shipment.delivered (same shipment, application and time);
    version 1 announced it twice. Every other status is as in version 1."""

    shipment_id: str
    application_no: str
    direction: Literal["outbound", "inbound"] = "outbound"
    status: ShipmentStatus
    at: datetime


@event("delivery.shipment.delivered", summary="The certificate reached the applicant by mail: application completed.")
class ShipmentDelivered(EventData):
    shipment_id: str
    application_no: str
    at: datetime


@event("delivery.pickup.completed", summary="The applicant collected the certificate at the window: completed.")
class PickupCompleted(EventData):
    pickup_id: str
    application_no: str
    window: str | None = None
    clerk: str | None = None
    at: datetime


@event("delivery.shipment.failed", summary="A delivery failed; it is re-shipped or returned to the window.")
class ShipmentFailed(EventData):
    shipment_id: str
    application_no: str
    reason: str
    action: Literal["retry", "return_to_window"]
    at: datetime
    direction: Literal["outbound", "inbound"] = "outbound"
    carrier: str | None = None
    attempt: int = 1
    # With action "retry": the new shipment that carries the certificate again.
    next_shipment_id: str | None = None


@event("delivery.shipment.cancelled", summary="A waybill was cancelled before the courier picked it up.")
class ShipmentCancelled(EventData):
    shipment_id: str
    application_no: str
    direction: Literal["outbound", "inbound"] = "outbound"
    carrier: str
    tracking_no: str
    reason: str
    at: datetime


@event("delivery.pickup.ready", summary="The certificate waits at the window for its applicant.")
class PickupReady(EventData):
    pickup_id: str
    application_no: str
    window: str | None = None
    # chosen | returned (a mailing failed) | no_address | address_invalid
    reason: str
    at: datetime
