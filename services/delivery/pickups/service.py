"""Window pickup: a certificate waits at the window; the clerk hands it over after an ID check."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.delivery import PickupCompleted, PickupReady
from owkernel.errors import Conflict, NotFound, Unprocessable, field_error
from owkernel.kernel import clock_of
from services.delivery.db import outbox
from services.delivery.known_applications.models import ApplicationFacts
from services.delivery.pickups import repository
from services.delivery.pickups.models import Pickup
from services.delivery.timeutil import new_id


def mask_id_number(id_number: str) -> str:
    """Keep the first 6 and last 4 characters of an identity number."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


async def open_pickup(session: AsyncSession, *, application: ApplicationFacts, reason: str) -> Pickup:
    """Put the certificate at the window (once per application) and say so."""
    existing = await repository.by_application(session, application.application_no, lock=True)
    if existing is not None:
        if existing.status == "cancelled":
            existing.status = "waiting"
            existing.reason = reason
            existing.certificate_no = application.certificate_no
            await _announce(session, existing)
        return existing
    now = clock_of(session).now()
    pickup = Pickup(
        id=new_id("pku"),
        application_no=application.application_no,
        applicant_id_number=application.applicant_id_number,
        certificate_no=application.certificate_no,
        window=application.window,
        reason=reason,
        status="waiting",
        created_at=now,
    )
    session.add(pickup)
    await session.flush()
    await _announce(session, pickup)
    return pickup


async def _announce(session: AsyncSession, pickup: Pickup) -> None:
    await outbox.add(
        session,
        PickupReady(
            pickup_id=pickup.id,
            application_no=pickup.application_no,
            window=pickup.window,
            reason=pickup.reason,
            at=clock_of(session).now(),
        ),
    )


async def cancel_pickup(session: AsyncSession, *, application_no: str) -> None:
    """The certificate goes by mail again: the window stops waiting for it."""
    pickup = await repository.by_application(session, application_no, lock=True)
    if pickup is None or pickup.status == "cancelled":
        return
    if pickup.status == "completed":
        raise Conflict(
            "The applicant already collected the certificate at the window.", code="certificate_already_collected"
        )
    pickup.status = "cancelled"


async def complete_pickup(
    session: AsyncSession,
    *,
    application_no: str,
    applicant_id_number: str,
    collector_id_number: str,
    collector_name: str | None,
    clerk: str,
) -> Pickup:
    """Hand the certificate over once the collector's identity number matches the applicant's."""
    pickup = await repository.by_application(session, application_no, lock=True)
    if pickup is None or pickup.status == "cancelled":
        raise NotFound("No certificate waits at the window for this application.", code="no_pickup_waiting")
    if pickup.status == "completed":
        raise Conflict("The certificate was already collected.", code="certificate_already_collected")
    if collector_id_number.strip().upper() != applicant_id_number.strip().upper():
        raise Unprocessable(
            "The collector's identity number does not match the applicant's.",
            code="collector_mismatch",
            errors=[
                field_error(
                    "body.collector_id_number",
                    "does not match the applicant",
                    "collector_mismatch",
                    application_no=application_no,
                )
            ],
        )
    now = clock_of(session).now()
    pickup.status = "completed"
    pickup.completed_at = now
    pickup.clerk = clerk
    pickup.collector_name = collector_name
    pickup.collector_id_masked = mask_id_number(collector_id_number.strip().upper())
    await outbox.add(
        session,
        PickupCompleted(pickup_id=pickup.id, application_no=application_no, window=pickup.window, clerk=clerk, at=now),
    )
    return pickup
