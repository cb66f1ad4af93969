"""Shipment routes: the applicant's and staff's view, re-ship, inbound mail of materials."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.app import SessionDep
from owkernel.auth import Principal, VerifiedPrincipal
from owkernel.errors import Conflict, Forbidden, NotFound
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.kernel import clock_of
from owkernel.pagination import CursorParam, LimitParam, Page, decode_time_cursor, page_of, time_key
from owkernel.roles import Clerk
from services.delivery.db import tables
from services.delivery.deps import SettingsDep
from services.delivery.known_applications import repository as applications
from services.delivery.shipments import repository, service
from services.delivery.shipments.models import Shipment, ShipmentEvent
from services.delivery.shipments.schemas import (
    AddressOut,
    InboundIn,
    ReceivedIn,
    ReshipIn,
    ShipmentEventOut,
    ShipmentOut,
)

router = APIRouter(tags=["shipments"])
idempotency = Idempotency(tables)


def may_see(principal: Principal, applicant_id_number: str) -> bool:
    """Staff see every shipment; an applicant sees their own."""
    return principal.is_staff or (principal.id_number is not None and principal.id_number == applicant_id_number)


def to_out(shipment: Shipment, events: list[ShipmentEvent]) -> ShipmentOut:
    """The API view of a shipment and its history."""
    return ShipmentOut(
        shipment_id=shipment.id,
        application_no=shipment.application_no,
        direction=shipment.direction,
        attempt=shipment.attempt,
        carrier=shipment.carrier,
        carrier_name=service.partner_name(shipment.carrier),
        tracking_no=shipment.tracking_no,
        status=shipment.status,
        address=AddressOut(
            region_code=shipment.region_code,
            detail=shipment.address_detail,
            recipient=shipment.recipient,
            phone=shipment.recipient_phone,
        ),
        zone=shipment.zone,
        fee_fen=shipment.fee_fen,
        certificate_no=shipment.certificate_no,
        failure_reason=shipment.failure_reason,
        created_at=shipment.created_at,
        updated_at=shipment.updated_at,
        delivered_at=shipment.delivered_at,
        events=[
            ShipmentEventOut(
                status=e.status,
                at=e.at,
                recorded_at=e.recorded_at,
                source=e.source,
                applied=e.applied,
                note=e.note,
            )
            for e in events
        ],
    )


async def _one_out(session: AsyncSession, shipment: Shipment) -> ShipmentOut:
    events = await repository.events_of(session, [shipment.id])
    return to_out(shipment, events[shipment.id])


@router.get("/api/v1/shipments", response_model=Page[ShipmentOut], summary="Shipments of an application")
async def list_shipments(
    session: SessionDep,
    principal: VerifiedPrincipal,
    application_no: Annotated[str | None, Query(max_length=40)] = None,
    direction: Annotated[str | None, Query(pattern="^(outbound|inbound)$")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ShipmentOut]:
    """Newest first; an applicant sees their own shipments, staff see all."""
    owner: str | None = None
    if not principal.is_staff:
        if principal.id_number is None:
            raise Forbidden("Only an applicant or staff can see shipments.", code="applicant_or_staff_only")
        owner = principal.id_number
        if application_no is not None:
            application = await applications.get(session, application_no)
            if application is not None and application.applicant_id_number != principal.id_number:
                raise Forbidden("This application belongs to someone else.", code="application_of_someone_else")
    after = decode_time_cursor(cursor)
    rows = await repository.page(
        session,
        applicant_id_number=owner,
        application_no=application_no,
        direction=direction,
        status=status,
        after=after,
        limit=limit + 1,
    )
    events = await repository.events_of(session, [s.id for s in rows[:limit]])
    return page_of(rows, limit, key=lambda s: time_key(s.created_at, s.id), item=lambda s: to_out(s, events[s.id]))


@router.get("/api/v1/shipments/{shipment_id}", response_model=ShipmentOut, summary="One shipment")
async def get_shipment(shipment_id: str, session: SessionDep, principal: VerifiedPrincipal) -> ShipmentOut:
    """A shipment with its full status history."""
    shipment = await repository.get(session, shipment_id)
    if shipment is None:
        raise NotFound("No such shipment.", code="shipment_not_found")
    if not may_see(principal, shipment.applicant_id_number):
        raise Forbidden("This shipment belongs to someone else.", code="shipment_of_someone_else")
    return await _one_out(session, shipment)


@router.post(
    "/api/v1/delivery/shipments/{shipment_id}/reship",
    status_code=201,
    response_model=ShipmentOut,
    summary="Send a certificate again (after a failure, or to a corrected address)",
)
async def reship(
    shipment_id: str, body: ReshipIn, request: Request, session: SessionDep, clerk: Clerk, key: IdempotencyKey = None
) -> Any:
    """A clerk re-ships: the old waybill is cancelled if not yet picked up; the window stops waiting."""
    fingerprint = request_hash("POST", request.url.path, body.model_dump_json())
    owner = f"reship:{clerk.subject_id}"
    replay = await idempotency.replay(session, owner=owner, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    shipment = await repository.get_for_update(session, shipment_id)
    if shipment is None:
        raise NotFound("No such shipment.", code="shipment_not_found")
    address = (
        service.Address(
            region_code=body.address.region_code,
            detail=body.address.detail,
            recipient=body.address.recipient,
            phone=body.address.phone,
        )
        if body.address
        else None
    )
    new = await service.reship(session, shipment=shipment, address=address, clerk=clerk.display)
    out = jsonable_encoder(await _one_out(session, new))
    await idempotency.remember(session, owner=owner, key=key, fingerprint=fingerprint, status_code=201, body=out)
    return JSONResponse(out, status_code=201)


@router.post(
    "/api/v1/delivery/inbound",
    status_code=201,
    response_model=ShipmentOut,
    summary="Mail paper materials in (free of charge)",
    responses={
        403: {"description": "neither the applicant nor a clerk"},
        404: {"description": "no accepted application with this number"},
        409: {"description": "the application already has the most open inbound pickups allowed"},
    },
)
async def mail_materials_in(
    body: InboundIn,
    request: Request,
    session: SessionDep,
    principal: VerifiedPrincipal,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> Any:
    """The applicant (or a clerk for them) books a courier to bring materials to the hall."""
    fingerprint = request_hash("POST", request.url.path, body.model_dump_json())
    owner = f"inbound:{principal.subject_id}"
    replay = await idempotency.replay(session, owner=owner, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    # Locked: the cap's count and the next attempt number are two reads, and on PostgreSQL a
    # parallel booking committing between them slipped a third courier under the cap.
    application = await applications.get(session, body.application_no, lock=True)
    if application is None:
        raise NotFound("No accepted application with this number.", code="application_not_accepted")
    if not (principal.has_role("clerk") or principal.id_number == application.applicant_id_number):
        raise Forbidden(
            "Only the applicant or a clerk can mail materials in for this application.", code="applicant_or_clerk_only"
        )
    shipment = await service.mail_in(
        session,
        application=application,
        sender=service.Address(
            region_code=body.sender.region_code,
            detail=body.sender.detail,
            recipient=body.sender.recipient,
            phone=body.sender.phone,
        ),
        max_open=settings.max_open_inbound_per_application,
    )
    out = jsonable_encoder(await _one_out(session, shipment))
    await idempotency.remember(session, owner=owner, key=key, fingerprint=fingerprint, status_code=201, body=out)
    return JSONResponse(out, status_code=201)


@router.post(
    "/api/v1/delivery/inbound/{shipment_id}/received",
    response_model=ShipmentOut,
    summary="Record that mailed-in materials arrived at the hall",
)
async def materials_received(shipment_id: str, body: ReceivedIn, session: SessionDep, clerk: Clerk) -> ShipmentOut:
    """The clerk records the arrival (when the courier's own report has not done it)."""
    shipment = await repository.get_for_update(session, shipment_id)
    if shipment is None or shipment.direction != "inbound":
        raise NotFound("No such inbound shipment.", code="shipment_not_found")
    if shipment.status == "delivered":
        raise Conflict("The materials were already recorded as arrived.", code="shipment_already_arrived")
    if shipment.status in ("failed", "cancelled", "pending"):
        raise Conflict(f"The shipment is {shipment.status}.", code="shipment_state", shipment_status=shipment.status)
    await service.apply_status(
        session,
        shipment=shipment,
        status="delivered",
        at=clock_of(session).now(),
        source="clerk",
        reason=body.note or f"received by {clerk.display}",
    )
    return await _one_out(session, shipment)
