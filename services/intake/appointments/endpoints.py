"""Appointment routes: slots of a window, booking, cancelling, attending."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from owkernel.app import SessionDep
from owkernel.auth import CurrentPrincipal, VerifiedPrincipal
from owkernel.errors import Forbidden
from owkernel.halls import CITY_HALL, HALL_CODE_PATTERN
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor, page_of
from services.intake.appointments import presenter, repository, service
from services.intake.appointments.schemas import AppointmentIn, AppointmentOut, SlotOpen, SlotOut, WindowKind
from services.intake.common import sees_everything
from services.intake.db import tables
from services.intake.deps import SettingsDep
from services.intake.halls import service as halls

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])
idempotency = Idempotency(tables)


@router.get("/slots")
async def list_slots(
    window: WindowKind,
    date: date,
    session: SessionDep,
    settings: SettingsDep,
    hall: Annotated[str, Query(pattern=HALL_CODE_PATTERN)] = CITY_HALL,
) -> list[SlotOut]:
    """A hall's window's slots on a day (the city's hall by default), with their free places."""
    await halls.require_known(session, hall, field="query.hall")
    slots = await service.day_slots(session, settings=settings, hall=hall, window=window, day=date)
    return [presenter.slot_out(s) for s in slots]


@router.post("/slots", status_code=201)
async def open_slot(body: SlotOpen, session: SessionDep, principal: CurrentPrincipal) -> SlotOut:
    """Open a slot (weekends, holidays, extended hours, lunch, door-to-door), resize or close it."""
    return presenter.slot_out(await service.open_slot(session, principal=principal, data=body))


@router.post(
    "",
    status_code=201,
    response_model=AppointmentOut,
    responses={
        409: {
            "description": "the slot is full, the person has booked it already, or holds the most future "
            "appointments allowed (cancel one)"
        }
    },
)
async def book(
    body: AppointmentIn,
    request: Request,
    session: SessionDep,
    principal: VerifiedPrincipal,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> object:
    """Book a place in a slot (409 when full, or when the person holds too many future appointments)."""
    fingerprint = request_hash("POST /api/v1/appointments", body.model_dump_json())
    replay = await idempotency.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    result = presenter.appointment_out(await service.book(session, settings=settings, principal=principal, data=body))
    await idempotency.remember(
        session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=201, body=result
    )
    return result


@router.get("")
async def list_appointments(
    session: SessionDep,
    principal: VerifiedPrincipal,
    window: WindowKind | None = None,
    date: date | None = None,
    status: Literal["booked", "cancelled", "attended"] | None = None,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[AppointmentOut]:
    """Newest first: an applicant's own; all for the hall's staff."""
    id_number = None
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        id_number = principal.id_number
    elif not sees_everything(principal):
        raise Forbidden("Appointments are for applicants and the hall's staff.")
    before = decode_id_cursor(cursor)
    rows = await repository.page(
        session,
        id_number=id_number,
        window=window,
        day=date,
        status=status,
        before_id=before,
        limit=limit + 1,
        hall=hall,
    )
    return page_of(rows, limit, key=lambda r: [r.id], item=presenter.appointment_out)


@router.get("/{appointment_id}")
async def get_appointment(appointment_id: str, session: SessionDep, principal: VerifiedPrincipal) -> AppointmentOut:
    """One booking."""
    row = await service.load(session, appointment_id)
    service.ensure_can_read(principal, row)
    return presenter.appointment_out(row)


@router.delete("/{appointment_id}")
async def cancel(appointment_id: str, session: SessionDep, principal: VerifiedPrincipal) -> AppointmentOut:
    """Cancel; the place is free again."""
    return presenter.appointment_out(await service.cancel(session, principal=principal, appointment_id=appointment_id))


@router.post("/{appointment_id}/cancel")
async def cancel_post(appointment_id: str, session: SessionDep, principal: VerifiedPrincipal) -> AppointmentOut:
    """Cancel (for clients that cannot send DELETE)."""
    return presenter.appointment_out(await service.cancel(session, principal=principal, appointment_id=appointment_id))


@router.post("/{appointment_id}/attend")
async def attend(
    appointment_id: str, session: SessionDep, principal: VerifiedPrincipal, settings: SettingsDep
) -> AppointmentOut:
    """A clerk marks the applicant came: a trip is recorded."""
    return presenter.appointment_out(
        await service.attend(session, settings=settings, principal=principal, appointment_id=appointment_id)
    )
