"""Every appointment query."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.intake.appointments.models import Appointment, AppointmentSlot


async def slots_of_day(session: AsyncSession, hall: str, window: str, day: date) -> list[AppointmentSlot]:
    """Slot rows of one window of a hall on one day."""
    stmt = select(AppointmentSlot).where(
        AppointmentSlot.hall == hall, AppointmentSlot.window == window, AppointmentSlot.day == day
    )
    return list((await session.execute(stmt)).scalars())


async def get_slot(session: AsyncSession, hall: str, window: str, slot: str) -> AppointmentSlot | None:
    """One slot row."""
    stmt = select(AppointmentSlot).where(
        AppointmentSlot.hall == hall, AppointmentSlot.window == window, AppointmentSlot.slot == slot
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def ensure_slot(session: AsyncSession, row: dict[str, object]) -> None:
    """Write a default slot on its first booking (nothing if it is already there)."""
    ins = conflict_insert(session, AppointmentSlot)
    await session.execute(ins.values(**row).on_conflict_do_nothing(index_elements=["hall", "window", "slot"]))


async def upsert_slot(session: AsyncSession, row: dict[str, object]) -> None:
    """Open a slot or change its times, kind and capacity (its bookings stay)."""
    ins = conflict_insert(session, AppointmentSlot)
    changes = {k: row[k] for k in ("start", "end", "kind", "capacity", "opened_by")}
    statement = ins.values(**row).on_conflict_do_update(index_elements=["hall", "window", "slot"], set_=changes)
    await session.execute(statement)


async def take_place(session: AsyncSession, hall: str, window: str, slot: str) -> bool:
    """Book one place if one is free (one conditional UPDATE: two callers never take the last twice)."""
    result = await session.execute(
        update(AppointmentSlot)
        .where(
            AppointmentSlot.hall == hall,
            AppointmentSlot.window == window,
            AppointmentSlot.slot == slot,
            AppointmentSlot.booked < AppointmentSlot.capacity,
        )
        .values(booked=AppointmentSlot.booked + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def give_back_place(session: AsyncSession, hall: str, window: str, slot: str) -> None:
    """Free a place of a cancelled booking."""
    await session.execute(
        update(AppointmentSlot)
        .where(
            AppointmentSlot.hall == hall,
            AppointmentSlot.window == window,
            AppointmentSlot.slot == slot,
            AppointmentSlot.booked > 0,
        )
        .values(booked=AppointmentSlot.booked - 1)
    )


async def get(session: AsyncSession, appointment_id: str, *, for_update: bool = False) -> Appointment | None:
    """One booking."""
    stmt = select(Appointment).where(Appointment.appointment_id == appointment_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def booked_by(session: AsyncSession, hall: str, window: str, slot: str, id_number: str) -> Appointment | None:
    """A live booking of this person in this slot."""
    stmt = select(Appointment).where(
        Appointment.hall == hall,
        Appointment.window == window,
        Appointment.slot == slot,
        Appointment.id_number == id_number,
        Appointment.status == "booked",
    )
    return (await session.execute(stmt)).scalars().first()


async def count_future(session: AsyncSession, id_number: str, *, after_slot: str) -> int:
    """How many bookings the person holds in slots starting after ``after_slot`` (not cancelled, not attended)."""
    stmt = select(func.count()).where(
        Appointment.id_number == id_number,
        Appointment.status == "booked",
        # Slot ids are the local start as fixed-width "YYYY-MM-DDTHH:MM": text order is time order.
        Appointment.slot > after_slot,
    )
    return int((await session.execute(stmt)).scalar_one())


async def page(
    session: AsyncSession,
    *,
    id_number: str | None,
    window: str | None,
    day: date | None,
    status: str | None,
    before_id: int | None,
    limit: int,
    hall: str | None = None,
) -> list[Appointment]:
    """Newest first, below the cursor."""
    stmt: Select[Appointment] = select(Appointment).order_by(Appointment.id.desc()).limit(limit)
    if hall is not None:
        stmt = stmt.where(Appointment.hall == hall)
    if id_number is not None:
        stmt = stmt.where(Appointment.id_number == id_number)
    if window is not None:
        stmt = stmt.where(Appointment.window == window)
    if day is not None:
        stmt = stmt.where(Appointment.day == day)
    if status is not None:
        stmt = stmt.where(Appointment.status == status)
    if before_id is not None:
        stmt = stmt.where(Appointment.id < before_id)
    return list((await session.execute(stmt)).scalars())
