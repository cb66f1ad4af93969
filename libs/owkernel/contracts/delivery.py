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


@event("delivery.shipment.status_changed", summary="The courier moved a shipment's status.")
class ShipmentStatusChanged(EventData):
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
