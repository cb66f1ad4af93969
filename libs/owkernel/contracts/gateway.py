"""Events the gateway publishes (stream GATEWAY): the online payment's outcome."""

from __future__ import annotations

from datetime import datetime

from owkernel.contracts._base import EventData, event


@event("gateway.payment.succeeded", summary="An application's fee was paid online.")
class PaymentSucceeded(EventData):
    payment_id: str
    application_no: str
    amount_fen: int
    paid_at: datetime


@event("gateway.payment.failed", summary="The payment provider reported a failure.")
class PaymentFailed(EventData):
    payment_id: str
    application_no: str
    reason: str


@event("gateway.payment.expired", summary="A payment order stayed unpaid past its time limit.")
class PaymentExpired(EventData):
    payment_id: str
    application_no: str
