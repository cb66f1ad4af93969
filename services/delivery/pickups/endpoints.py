"""Window pickup routes for clerks (and the applicant's own view)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from owkernel.app import SessionDep
from owkernel.auth import VerifiedPrincipal
from owkernel.errors import Forbidden, NotFound
from owkernel.pagination import CursorParam, LimitParam, Page, decode_time_cursor, page_of, time_key
from owkernel.roles import Clerk
from services.delivery.known_applications import repository as applications
from services.delivery.pickups import repository, service
from services.delivery.pickups.models import Pickup
from services.delivery.pickups.schemas import CompleteIn, PickupOut

router = APIRouter(tags=["pickups"])


def to_out(pickup: Pickup) -> PickupOut:
    """The API view of a pickup."""
    return PickupOut(
        pickup_id=pickup.id,
        application_no=pickup.application_no,
        certificate_no=pickup.certificate_no,
        window=pickup.window,
        reason=pickup.reason,
        status=pickup.status,
        created_at=pickup.created_at,
        completed_at=pickup.completed_at,
        clerk=pickup.clerk,
        collector_name=pickup.collector_name,
        collector_id_masked=pickup.collector_id_masked,
    )


@router.get("/api/v1/delivery/pickups", response_model=Page[PickupOut], summary="Certificates at the window")
async def list_pickups(
    session: SessionDep,
    principal: VerifiedPrincipal,
    status: Annotated[str | None, Query(pattern="^(waiting|completed|cancelled)$")] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[PickupOut]:
    """Oldest first: staff see the window's queue, an applicant their own certificates."""
    owner = None
    if not principal.is_staff:
        if principal.id_number is None:
            raise Forbidden("Only an applicant or staff can see pickups.", code="applicant_or_staff_only")
        owner = principal.id_number
    after = decode_time_cursor(cursor)
    rows = await repository.page(session, status=status, applicant_id_number=owner, after=after, limit=limit + 1)
    return page_of(rows, limit, key=lambda p: time_key(p.created_at, p.id), item=to_out)


@router.get("/api/v1/delivery/pickups/{application_no}", response_model=PickupOut, summary="One pickup")
async def get_pickup(application_no: str, session: SessionDep, principal: VerifiedPrincipal) -> PickupOut:
    """The pickup record of an application."""
    pickup = await repository.by_application(session, application_no)
    if pickup is None:
        raise NotFound("No certificate waits at the window for this application.", code="no_pickup_waiting")
    if not (principal.is_staff or principal.id_number == pickup.applicant_id_number):
        raise Forbidden("This application belongs to someone else.", code="application_of_someone_else")
    return to_out(pickup)


@router.post(
    "/api/v1/delivery/pickups/{application_no}/complete",
    response_model=PickupOut,
    summary="Hand the certificate over at the window (identity checked)",
)
async def complete_pickup(application_no: str, body: CompleteIn, session: SessionDep, clerk: Clerk) -> PickupOut:
    """The collector's identity number must be the applicant's; the application then completes."""
    application = await applications.get(session, application_no)
    if application is None:
        raise NotFound("No certificate waits at the window for this application.", code="no_pickup_waiting")
    pickup = await service.complete_pickup(
        session,
        application_no=application_no,
        applicant_id_number=application.applicant_id_number,
        collector_id_number=body.collector_id_number,
        collector_name=body.collector_name,
        clerk=clerk.display,
    )
    return to_out(pickup)
