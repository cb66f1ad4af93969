"""The API's shapes of slots and bookings."""

from __future__ import annotations

from services.intake.appointments.models import Appointment
from services.intake.appointments.schemas import AppointmentOut, SlotOut
from services.intake.appointments.service import SlotDef


def slot_out(slot: SlotDef) -> SlotOut:
    """A slot with its free places."""
    return SlotOut(
        slot=slot.slot,
        hall=slot.hall,
        window=slot.window,
        date=slot.day,
        start=slot.start,
        end=slot.end,
        kind=slot.kind,
        capacity=slot.capacity,
        booked=slot.booked,
        available=max(slot.capacity - slot.booked, 0),
    )


def appointment_out(row: Appointment) -> AppointmentOut:
    """One booking."""
    return AppointmentOut(
        appointment_id=row.appointment_id,
        hall=row.hall,
        window=row.window,
        slot=row.slot,
        date=row.day,
        start=row.start,
        end=row.end,
        kind=row.kind,
        status=row.status,
        id_number=row.id_number,
        name=row.name,
        application_no=row.application_no,
        item_code=row.item_code,
        address=row.address,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        attended_at=row.attended_at,
    )
