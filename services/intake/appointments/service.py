"""Appointment rules: slots per window with capacity (409 when full), any day a window opens.

Every window opens the configured weekday slots by default; staff open more (weekends,
holidays, extended hours, lunch time, door-to-door) or close one by setting its capacity to 0.
Intake does not keep a holiday calendar: closing a default slot on a holiday is the hall's act.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from owkernel.kernel import clock_of
from services.intake.applications import repository as applications_repo
from services.intake.applications.events import record_visit
from services.intake.appointments import repository
from services.intake.appointments.models import Appointment, AppointmentSlot
from services.intake.appointments.schemas import AppointmentIn, SlotOpen
from services.intake.common import applicant_kind, sees_everything
from services.intake.halls import service as halls
from services.intake.settings import IntakeSettings


@dataclass(frozen=True)
class SlotDef:
    """A slot as it stands: a default, or a row staff opened or that has bookings."""

    slot: str
    hall: str
    window: str
    day: date
    start: str
    end: str
    kind: str
    capacity: int
    booked: int


def slot_id(day: date, start: str) -> str:
    """What clients book: the local start, ``YYYY-MM-DDTHH:MM``."""
    return f"{day.isoformat()}T{start}"


def default_slots(settings: IntakeSettings, hall: str, window: str, day: date) -> dict[str, SlotDef]:
    """The slots a window of any hall opens on a weekday unless staff changed them."""
    if day.weekday() >= 5:
        return {}
    out: dict[str, SlotDef] = {}
    for spec in settings.weekday_slots:
        kind, _, hours = spec.partition(" ")
        start, _, end = hours.strip().partition("-")
        sid = slot_id(day, start)
        out[sid] = SlotDef(sid, hall, window, day, start, end, kind, settings.slot_capacity, 0)
    return out


def _from_row(row: AppointmentSlot) -> SlotDef:
    return SlotDef(row.slot, row.hall, row.window, row.day, row.start, row.end, row.kind, row.capacity, row.booked)


async def day_slots(
    session: AsyncSession, *, settings: IntakeSettings, hall: str, window: str, day: date
) -> list[SlotDef]:
    """Every slot of a hall's window on a day: the defaults, overridden by what staff opened or changed."""
    slots = default_slots(settings, hall, window, day)
    for row in await repository.slots_of_day(session, hall, window, day):
        slots[row.slot] = _from_row(row)
    return sorted(slots.values(), key=lambda s: s.start)


async def open_slot(session: AsyncSession, *, principal: Principal, data: SlotOpen) -> SlotDef:
    """A window opens a slot (weekend, holiday, extended hours...), resizes it, or closes it with 0."""
    if not (principal.is_staff and principal.has_role("clerk", "admin")):
        raise Forbidden("Window clerks and administrators open slots.")
    hall = data.hall or halls.staff_hall(principal)
    if hall != halls.staff_hall(principal) and not principal.has_role("admin"):
        raise Forbidden("A clerk opens the slots of their own hall's windows.")
    await halls.require_known(session, hall, field="body.hall")
    sid = slot_id(data.date, data.start)
    await repository.upsert_slot(
        session,
        {
            "hall": hall,
            "window": data.window,
            "slot": sid,
            "day": data.date,
            "start": data.start,
            "end": data.end,
            "kind": data.kind,
            "capacity": data.capacity,
            "booked": 0,
            "opened_by": principal.display,
        },
    )
    row = await repository.get_slot(session, hall, data.window, sid)
    assert row is not None
    await session.refresh(row)
    return _from_row(row)


def _slot_start(settings: IntakeSettings, sid: str) -> datetime:
    try:
        naive = datetime.strptime(sid, "%Y-%m-%dT%H:%M")
    except ValueError as exc:
        raise Unprocessable(
            "The slot is not a date and time.", errors=[field_error("body.slot", "invalid", "invalid")]
        ) from exc
    return naive.replace(tzinfo=ZoneInfo(settings.timezone))


async def _within_future_cap(session: AsyncSession, settings: IntakeSettings, id_number: str) -> None:
    """409 when the person already holds the most future appointments allowed."""
    await applications_repo.lock_applicant(session, id_number)
    now = slot_id(*_local_day_and_time(settings, clock_of(session).now()))
    held = await repository.count_future(session, id_number, after_slot=now)
    if held >= settings.max_future_appointments:
        raise Conflict(
            f"This person already holds {held} future appointments, the most one person may hold at once: "
            "cancel one no longer needed (DELETE /api/v1/appointments/{appointment_id}) before booking another.",
            title="Too many future appointments",
            max_future_appointments=settings.max_future_appointments,
            future_appointments=held,
        )


def _local_day_and_time(settings: IntakeSettings, at: datetime) -> tuple[date, str]:
    local = at.astimezone(ZoneInfo(settings.timezone))
    return local.date(), local.strftime("%H:%M")


@dataclass(frozen=True)
class _Booker:
    """Whom a booking is for."""

    id_number: str
    name: str
    subject_id: str | None


async def book(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, data: AppointmentIn
) -> Appointment:
    """Take a place in a slot; 409 when it is full."""
    who = _who_books(principal, data)
    slot = await _bookable_slot(session, settings, data)
    item_code = await _item_code_of(session, data, who.id_number)
    if await repository.booked_by(session, data.hall, data.window, data.slot, who.id_number) is not None:
        raise Conflict("This applicant already has a booking in that slot.")
    await _within_future_cap(session, settings, who.id_number)
    await repository.ensure_slot(
        session,
        {
            "hall": slot.hall,
            "window": slot.window,
            "slot": slot.slot,
            "day": slot.day,
            "start": slot.start,
            "end": slot.end,
            "kind": slot.kind,
            "capacity": slot.capacity,
            "booked": 0,
            "opened_by": None,
        },
    )
    if not await repository.take_place(session, data.hall, data.window, data.slot):
        raise Conflict(f"The slot at {data.slot} is full.")
    row = _booking(data, slot, who, item_code=item_code, by=principal.display, at=clock_of(session).now())
    session.add(row)
    await session.flush()
    return row


def _who_books(principal: Principal, data: AppointmentIn) -> _Booker:
    """An applicant books for themselves; a clerk for the applicant they name."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        if data.applicant_id_number not in (None, principal.id_number):
            raise Forbidden("An applicant books for themselves.")
        return _Booker(principal.id_number, data.applicant_name or principal.name or "", principal.subject_id)
    if principal.has_role("clerk"):
        if data.applicant_id_number is None:
            raise Unprocessable(
                "A clerk books on behalf of someone: give applicant_id_number.",
                errors=[
                    field_error("body.applicant_id_number", "required for a clerk", "applicant_id_number_required")
                ],
            )
        applicant_kind(data.applicant_id_number, None, field="body.applicant_id_number")
        return _Booker(data.applicant_id_number.upper(), data.applicant_name or "", None)
    raise Forbidden("Appointments are booked by applicants, or by a clerk for them.")


async def _bookable_slot(session: AsyncSession, settings: IntakeSettings, data: AppointmentIn) -> SlotDef:
    """The slot asked for: in the future, open at a known hall's window, of the kind asked for."""
    start = _slot_start(settings, data.slot)
    if start <= clock_of(session).now():
        raise Unprocessable("That slot has begun or passed.", errors=[field_error("body.slot", "past", "slot_past")])
    await halls.require_known(session, data.hall, field="body.hall")
    slots = await day_slots(session, settings=settings, hall=data.hall, window=data.window, day=start.date())
    slot = next((s for s in slots if s.slot == data.slot), None)
    if slot is None or slot.capacity == 0:
        raise Unprocessable(
            f"The {data.window} window opens no slot at {data.slot}.",
            errors=[field_error("body.slot", "not open", "slot_not_open")],
        )
    if slot.kind != data.kind:
        raise Unprocessable(
            f"The slot at {data.slot} is a {slot.kind} slot.",
            errors=[field_error("body.kind", slot.kind, "slot_kind_mismatch", kind=slot.kind)],
        )
    return slot


async def _item_code_of(session: AsyncSession, data: AppointmentIn, id_number: str) -> str | None:
    """The item the visit is about: the named application's (it must be the applicant's), or the one given."""
    if data.application_no is None:
        return data.item_code
    app = await applications_repo.get_by_no(session, data.application_no)
    if app is None or app.applicant_id_number != id_number:
        raise Unprocessable(
            f"No application {data.application_no} of this applicant.",
            errors=[field_error("body.application_no", "unknown", "application_unknown")],
        )
    return app.item_code


def _booking(
    data: AppointmentIn, slot: SlotDef, who: _Booker, *, item_code: str | None, by: str, at: datetime
) -> Appointment:
    """The new booking's row."""
    return Appointment(
        appointment_id=uuid.uuid4().hex,
        hall=data.hall,
        window=data.window,
        slot=data.slot,
        day=slot.day,
        start=slot.start,
        end=slot.end,
        kind=slot.kind,
        id_number=who.id_number,
        name=who.name,
        phone=data.phone,
        subject_id=who.subject_id,
        application_no=data.application_no,
        item_code=item_code,
        address=data.address.model_dump() if data.address else None,
        status="booked",
        created_by=by,
        created_at=at,
    )


def ensure_can_read(principal: Principal, row: Appointment) -> None:
    """The applicant and the hall's staff."""
    if principal.kind in ("person", "enterprise") and principal.id_number == row.id_number:
        return
    if sees_everything(principal):
        return
    raise Forbidden("This appointment is someone else's.")


async def load(session: AsyncSession, appointment_id: str, *, for_update: bool = False) -> Appointment:
    """A booking or 404."""
    row = await repository.get(session, appointment_id, for_update=for_update)
    if row is None:
        raise NotFound(f"No appointment {appointment_id}.")
    return row


async def cancel(session: AsyncSession, *, principal: Principal, appointment_id: str) -> Appointment:
    """Cancel a booking; its place is free again."""
    row = await load(session, appointment_id, for_update=True)
    ensure_can_read(principal, row)
    if row.status == "cancelled":
        return row
    if row.status == "attended":
        raise Conflict("This appointment was attended; it cannot be cancelled.")
    row.status = "cancelled"
    row.cancelled_at = clock_of(session).now()
    await repository.give_back_place(session, row.hall, row.window, row.slot)
    return row


async def attend(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, appointment_id: str
) -> Appointment:
    """The applicant came (or was visited at home): a trip is recorded when they came."""
    if not (principal.is_staff and principal.has_role("clerk")):
        raise Forbidden("A window clerk marks an appointment attended.")
    row = await load(session, appointment_id, for_update=True)
    if row.status != "booked":
        raise Conflict(f"This appointment is {row.status}.")
    now = clock_of(session).now()
    row.status = "attended"
    row.attended_at = now
    # Door-to-door service spares the applicant the trip: nothing to count.
    if row.kind != "door_to_door":
        await record_visit(
            session,
            settings,
            id_number=row.id_number,
            kind="appointment",
            window=row.window,
            application_no=row.application_no,
            item_code=row.item_code,
            at=now,
            hall=row.hall,
        )
    return row
