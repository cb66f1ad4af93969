"""Shipments: booking with a partner chosen by rule, the status state machine, failures.

Status order: created < picked_up < in_transit < delivered | failed. A report moves a shipment
only forward: a repeated report, or one that arrives after a later one (a late ``in_transit``
after ``delivered``), is kept in the history as not applied and changes nothing. ``delivered``,
``failed`` and ``cancelled`` are final.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import structlog
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.contextvars import bind_contextvars

from owkernel.contracts.delivery import (
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentFailed,
    ShipmentStatusChanged,
)
from owkernel.errors import Conflict
from owkernel.kernel import clock_of
from services.delivery.db import outbox
from services.delivery.known_applications import repository as applications
from services.delivery.known_applications.models import ApplicationFacts, DeliveryApplication
from services.delivery.partners import repository as partners
from services.delivery.partners.adapter import WaybillRequest
from services.delivery.partners.catalog import PartnerSpec, choose_partner, partner
from services.delivery.partners.couriers import adapter_for
from services.delivery.pickups import service as pickups
from services.delivery.regions.divisions import HOME_CITY_CODE, zone_of
from services.delivery.shipments import repository
from services.delivery.shipments.models import Shipment
from services.delivery.timeutil import as_utc, new_id

log = structlog.get_logger("delivery.shipments")

Direction = Literal["outbound", "inbound"]
CourierStatus = Literal["picked_up", "in_transit", "delivered", "failed"]

# A failed delivery is re-shipped (preferably by another partner) until this many attempts,
# then the certificate is returned to the window.
MAX_DELIVERY_ATTEMPTS = 2
RANK = {"pending": 0, "created": 0, "picked_up": 1, "in_transit": 2, "delivered": 3, "failed": 3, "cancelled": 3}
FINAL = frozenset({"delivered", "failed", "cancelled"})


class ShipmentFacts(Protocol):
    """What applying a report reads of a shipment: a mapped ``Shipment``, or the row a courier's
    report moved (``repository.advance``), which is never loaded as an object (issue 22)."""

    @property
    def id(self) -> str: ...
    @property
    def application_no(self) -> str: ...
    @property
    def applicant_id_number(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def carrier(self) -> str | None: ...
    @property
    def region_code(self) -> str: ...
    @property
    def address_detail(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def recipient_phone(self) -> str: ...
    @property
    def certificate_no(self) -> str | None: ...
    @property
    def failure_reason(self) -> str | None: ...


@dataclass(frozen=True)
class Address:
    """The far end of a shipment."""

    region_code: str
    detail: str
    recipient: str
    phone: str


async def open_shipment(
    session: AsyncSession,
    *,
    application_no: str,
    applicant_id_number: str,
    direction: Direction,
    attempt: int,
    address: Address,
    certificate_no: str | None = None,
    avoid: Iterable[str] = (),
    shipment_id: str | None = None,
) -> Shipment:
    """Make a shipment and book it with the partner the rule picks (pending when none is available)."""
    now = clock_of(session).now()
    shipment = Shipment(
        id=shipment_id or new_id("shp"),
        application_no=application_no,
        applicant_id_number=applicant_id_number,
        direction=direction,
        attempt=attempt,
        status="pending",
        carrier=None,
        tracking_no=None,
        region_code=address.region_code,
        county_code=address.region_code[:6],
        township_code=address.region_code[:9],
        address_detail=address.detail,
        recipient=address.recipient,
        recipient_phone=address.phone,
        zone=zone_of(address.region_code, home_city_code=HOME_CITY_CODE),
        fee_fen=0,
        certificate_no=certificate_no,
        created_at=now,
        updated_at=now,
    )
    chosen = choose_partner(
        region_code=address.region_code,
        zone=shipment.zone,  # type: ignore[arg-type]
        unavailable=await partners.unavailable_carriers(session),
        avoid=avoid,
    )
    if chosen is None:
        await repository.insert_new(session, shipment)
        await _record(session, shipment, "pending", now, source="system", applied=True, note="no partner available yet")
        log.warning("shipment.no_partner", shipment_id=shipment.id, region_code=address.region_code)
        return shipment
    await book(session, shipment=shipment, spec=chosen)
    return shipment


async def mail_in(
    session: AsyncSession, *, application: DeliveryApplication, sender: Address, max_open: int
) -> Shipment:
    """Book a free courier to bring an application's materials in; 409 past ``max_open`` open ones.

    Finance pays for every courier, so one caller may not book them without end. The caller holds
    the application's row locked, so two bookings at once count one after the other (the unique
    ``(application_no, direction, attempt)`` stays as the last guard).
    """
    open_now = await repository.count_open(
        session, application_no=application.application_no, direction="inbound", final=sorted(FINAL)
    )
    if open_now >= max_open:
        raise Conflict(
            f"This application already has {open_now} inbound pickups under way (at most {max_open}); "
            "book another once one has arrived or failed.",
            code="inbound_pickups_limit",
            max_open=max_open,
        )
    attempt = await repository.max_attempt(session, application_no=application.application_no, direction="inbound")
    return await open_shipment(
        session,
        application_no=application.application_no,
        applicant_id_number=application.applicant_id_number,
        direction="inbound",
        attempt=attempt + 1,
        address=sender,
    )


async def book(session: AsyncSession, *, shipment: Shipment, spec: PartnerSpec) -> None:
    """Ask the partner for a waybill; the fee is owed by finance from this moment.

    A new shipment (``open_shipment``) is written only here, booked: one INSERT with its waybill
    instead of an INSERT before the call and an UPDATE after it, through the table rather than the
    unit of work (the object stays outside the session). The unique
    ``(application_no, direction, attempt)`` then fails after the partner was asked, which books
    nothing twice: the booking's idempotency key is that same triple (``partners/couriers.py``), so
    the partner answers the first waybill again, and the failing transaction keeps none of it.
    """
    waybill = await adapter_for(spec.code).create_waybill(
        session,
        WaybillRequest(
            shipment_id=shipment.id,
            application_no=shipment.application_no,
            direction=shipment.direction,  # type: ignore[arg-type]
            attempt=shipment.attempt,
            region_code=shipment.region_code,
            address_detail=shipment.address_detail,
            contact_name=shipment.recipient,
            contact_phone=shipment.recipient_phone,
        ),
    )
    now = clock_of(session).now()
    shipment.carrier = spec.code
    shipment.tracking_no = waybill.tracking_no
    shipment.fee_fen = spec.fee_fen(shipment.zone) or 0  # type: ignore[arg-type]
    shipment.status = "created"
    shipment.waybill_at = now
    shipment.status_at = now
    shipment.updated_at = now
    # Its history row goes in with the commit and refers to it: the shipment is written first.
    if inspect(shipment).persistent:
        await session.flush()  # one that waited as pending (``assign_pending``): its row is updated
    else:
        await repository.insert_new(session, shipment)
    await _record(session, shipment, "created", now, source="system", applied=True, note=f"waybill with {spec.name}")
    await outbox.add(
        session,
        ShipmentCreated(
            shipment_id=shipment.id,
            application_no=shipment.application_no,
            direction=shipment.direction,
            carrier=spec.code,
            tracking_no=waybill.tracking_no,
            region_code=shipment.region_code,
            attempt=shipment.attempt,
            fee_fen=shipment.fee_fen,
        ),
    )


async def assign_pending(session: AsyncSession) -> int:
    """Book every shipment that waited for a partner and can have one now."""
    unavailable = await partners.unavailable_carriers(session)
    booked = 0
    for shipment in await repository.pending(session):
        chosen = choose_partner(
            region_code=shipment.region_code,
            zone=shipment.zone,  # type: ignore[arg-type]
            unavailable=unavailable,
        )
        if chosen is not None:
            await book(session, shipment=shipment, spec=chosen)
            booked += 1
    return booked


async def _record(
    session: AsyncSession,
    shipment: ShipmentFacts,
    status: str,
    at: datetime,
    *,
    source: str,
    applied: bool,
    webhook_id: str | None = None,
    note: str | None = None,
) -> None:
    await repository.add_event(
        session,
        {
            "shipment_id": shipment.id,
            "status": status,
            "at": at,
            "recorded_at": clock_of(session).now(),
            "source": source,
            "applied": applied,
            "webhook_id": webhook_id,
            "note": note,
        },
    )


async def apply_status(
    session: AsyncSession,
    *,
    shipment: Shipment,
    status: CourierStatus,
    at: datetime,
    source: str,
    webhook_id: str | None = None,
    reason: str | None = None,
) -> bool:
    """Apply a courier report if it moves the shipment forward; always keep it in the history."""
    at = as_utc(at)
    applied = shipment.status not in FINAL and shipment.status != "pending" and RANK[status] > RANK[shipment.status]
    await _record(session, shipment, status, at, source=source, applied=applied, webhook_id=webhook_id, note=reason)
    if not applied:
        log.info("shipment.report_ignored", shipment_id=shipment.id, status=status, current=shipment.status)
        return False
    for column, value in _moved(session, status=status, at=at, reason=reason).items():
        setattr(shipment, column, value)
    await _announce(session, shipment=shipment, status=status, at=at)
    return True


async def apply_courier_report(
    session: AsyncSession,
    *,
    carrier: str,
    tracking_no: str,
    status: CourierStatus,
    at: datetime,
    webhook_id: str,
    reason: str | None = None,
) -> tuple[ShipmentFacts | None, bool]:
    """``apply_status`` for a carrier's parcel found by its tracking number: the shipment (None when
    the carrier has no such parcel) and whether the report moved it.

    A report that moves the parcel forward, nearly every one, costs one ``UPDATE ... RETURNING``
    (the statuses it may move from are in its WHERE) instead of a locked read and a write, and
    what it returns is the row, not an object; only one that does not reads the parcel, to keep
    it in the history as not applied (issue 22).
    """
    at = as_utc(at)
    moved = await repository.advance(
        session,
        carrier=carrier,
        tracking_no=tracking_no,
        from_statuses=_MOVES_FROM[status],
        values=_moved(session, status=status, at=at, reason=reason),
    )
    if moved is not None:
        # The webhook's log lines from here on name the application, as a handler's do.
        bind_contextvars(application_no=moved.application_no)
        await _record(session, moved, status, at, source="courier", applied=True, webhook_id=webhook_id, note=reason)
        await _announce(session, shipment=moved, status=status, at=at)
        return moved, True
    shipment = await repository.by_tracking(session, carrier=carrier, tracking_no=tracking_no)
    if shipment is None:
        return None, False
    bind_contextvars(application_no=shipment.application_no)
    applied = await apply_status(
        session, shipment=shipment, status=status, at=at, source="courier", webhook_id=webhook_id, reason=reason
    )
    return shipment, applied


# The statuses a report moves a shipment from: not final, not pending, and of a lower rank.
_MOVES_FROM: dict[str, tuple[str, ...]] = {
    status: tuple(s for s, rank in RANK.items() if s not in FINAL and s != "pending" and rank < RANK[status])
    for status in ("picked_up", "in_transit", "delivered", "failed")
}


def _moved(session: AsyncSession, *, status: CourierStatus, at: datetime, reason: str | None) -> dict[str, object]:
    """The columns an applied report sets."""
    values: dict[str, object] = {"status": status, "status_at": at, "updated_at": clock_of(session).now()}
    if status == "delivered":
        values["delivered_at"] = at
    elif status == "failed":
        values["failure_reason"] = (reason or "delivery failed")[:300]
    return values


async def _announce(session: AsyncSession, *, shipment: ShipmentFacts, status: CourierStatus, at: datetime) -> None:
    """Publish an applied report (and, after a failure, re-ship or return to the window)."""
    direction: Direction = "inbound" if shipment.direction == "inbound" else "outbound"
    # ShipmentStatusChanged version 2: an outbound delivery is ShipmentDelivered alone (below).
    if status != "delivered" or direction == "inbound":
        await outbox.add(
            session,
            ShipmentStatusChanged(
                shipment_id=shipment.id,
                application_no=shipment.application_no,
                direction=direction,
                status=status,
                at=at,
            ),
        )
    if status == "delivered":
        if direction == "outbound":
            await outbox.add(
                session, ShipmentDelivered(shipment_id=shipment.id, application_no=shipment.application_no, at=at)
            )
    elif status == "failed":
        await _after_failure(session, shipment=shipment, at=at)


async def _after_failure(session: AsyncSession, *, shipment: ShipmentFacts, at: datetime) -> None:
    """Re-ship with another partner while attempts remain; then return the certificate to the window."""
    reason = shipment.failure_reason or "delivery failed"
    common = {
        "shipment_id": shipment.id,
        "application_no": shipment.application_no,
        "reason": reason,
        "at": at,
        "carrier": shipment.carrier,
        "attempt": shipment.attempt,
    }
    if shipment.direction == "inbound":
        # The applicant's materials did not arrive: they bring them to the window instead.
        await outbox.add(session, ShipmentFailed(action="return_to_window", direction="inbound", **common))
        return
    application = await applications.get(session, shipment.application_no)
    if application is not None and shipment.attempt < MAX_DELIVERY_ATTEMPTS:
        next_id = new_id("shp")
        # The failure is announced before the new waybill, so timelines read in order.
        await outbox.add(session, ShipmentFailed(action="retry", next_shipment_id=next_id, **common))
        await open_shipment(
            session,
            application_no=shipment.application_no,
            applicant_id_number=shipment.applicant_id_number,
            direction="outbound",
            attempt=shipment.attempt + 1,
            address=address_of(shipment),
            certificate_no=shipment.certificate_no,
            avoid=[shipment.carrier] if shipment.carrier else [],
            shipment_id=next_id,
        )
        return
    await outbox.add(session, ShipmentFailed(action="return_to_window", **common))
    if application is not None:
        await pickups.open_pickup(session, application=application, reason="returned")


def address_of(shipment: ShipmentFacts) -> Address:
    """The address a shipment went to."""
    return Address(
        region_code=shipment.region_code,
        detail=shipment.address_detail,
        recipient=shipment.recipient,
        phone=shipment.recipient_phone,
    )


def address_of_application(application: ApplicationFacts) -> Address | None:
    """The mailing address an application chose, if complete."""
    if not (
        application.region_code and application.address_detail and application.recipient and application.recipient_phone
    ):
        return None
    return Address(
        region_code=application.region_code,
        detail=application.address_detail,
        recipient=application.recipient,
        phone=application.recipient_phone,
    )


async def cancel_waybill(session: AsyncSession, *, shipment: Shipment, reason: str) -> None:
    """Cancel a shipment the courier has not picked up yet (409 when it is too late)."""
    if shipment.status not in ("pending", "created"):
        raise Conflict(
            f"The shipment is {shipment.status}; only one not yet picked up can be cancelled.",
            code="shipment_not_cancellable",
            shipment_status=shipment.status,
        )
    if shipment.status == "created" and shipment.carrier and shipment.tracking_no:
        if not await adapter_for(shipment.carrier).cancel(session, shipment.tracking_no):
            raise Conflict("The courier already picked the parcel up.", code="parcel_already_picked_up")
        direction: Direction = "inbound" if shipment.direction == "inbound" else "outbound"
        await outbox.add(
            session,
            ShipmentCancelled(
                shipment_id=shipment.id,
                application_no=shipment.application_no,
                direction=direction,
                carrier=shipment.carrier,
                tracking_no=shipment.tracking_no,
                reason=reason,
                at=clock_of(session).now(),
            ),
        )
    now = clock_of(session).now()
    await _record(session, shipment, "cancelled", now, source="clerk", applied=True, note=reason)
    shipment.status = "cancelled"
    shipment.updated_at = now


async def reship(session: AsyncSession, *, shipment: Shipment, address: Address | None, clerk: str) -> Shipment:
    """A clerk sends the certificate again (after a failure, or to a corrected address before pickup)."""
    if shipment.direction != "outbound":
        raise Conflict("Only a certificate (outbound) shipment can be re-shipped.", code="shipment_not_reshippable")
    latest = await repository.latest(session, application_no=shipment.application_no, direction="outbound")
    if latest is None or latest.id != shipment.id:
        raise Conflict("A newer shipment of this application exists; re-ship that one.", code="shipment_superseded")
    avoid: list[str] = []
    if shipment.status in ("pending", "created"):
        await cancel_waybill(session, shipment=shipment, reason=f"re-shipped by {clerk}")
    elif shipment.status == "failed":
        avoid = [shipment.carrier] if shipment.carrier else []
    else:
        raise Conflict(
            f"The shipment is {shipment.status}; it cannot be re-shipped.",
            code="shipment_not_reshippable",
            shipment_status=shipment.status,
        )
    await pickups.cancel_pickup(session, application_no=shipment.application_no)
    target = address or address_of(shipment)
    application = await applications.get(session, shipment.application_no)
    if application is not None and address is not None:
        application.region_code = address.region_code
        application.address_detail = address.detail
        application.recipient = address.recipient
        application.recipient_phone = address.phone
    return await open_shipment(
        session,
        application_no=shipment.application_no,
        applicant_id_number=shipment.applicant_id_number,
        direction="outbound",
        attempt=shipment.attempt + 1,
        address=target,
        certificate_no=shipment.certificate_no,
        avoid=avoid,
    )


def partner_name(carrier: str | None) -> str | None:
    """A carrier's display name."""
    spec = partner(carrier) if carrier else None
    return spec.name if spec else None
