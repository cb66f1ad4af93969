"""How an application follows the other services' events: status, payment, certificate, timeline.

Each function runs inside the consumer's transaction (a SAVEPOINT per event). An event about an
application intake does not know yet, or one that arrives before the step it follows, raises
``RetryLater``; the status never moves backwards, so a late event only adds its timeline entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.consumer import PoisonEvent, RetryLater
from owkernel.contracts import Envelope
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    CardRaised,
    CertificateIssued,
    ClockOpened,
    ClockRescheduled,
    TaskAssigned,
    TaskCancelled,
    TaskDecided,
)
from owkernel.contracts.delivery import (
    PickupCompleted,
    PickupReady,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentFailed,
    ShipmentStatusChanged,
)
from owkernel.contracts.gateway import PaymentExpired, PaymentFailed, PaymentSucceeded
from services.intake.applications import repository
from services.intake.applications.events import record_visit, resume
from services.intake.applications.models import Application
from services.intake.projects import repository as projects_repo
from services.intake.settings import IntakeSettings

NOT_YET_ACCEPTED = ("draft", "submitted", "returned")
# The transaction and the applications it has loaded and locked so far, by number.
_LOCKED = "intake.locked_applications"


async def known(session: AsyncSession, no: str) -> Application:
    """The application an event is about, locked; RetryLater while intake has not made it.

    A consumer applies a batch of events in one transaction: the second event about an
    application takes the row the first one locked (a SELECT again would return that same object
    and lock nothing new). Not inside a SAVEPOINT: rolling one back may release the lock and
    expire the object, so there every event reads (and locks) the row itself.
    """
    nested = session.in_nested_transaction()
    transaction = session.sync_session.get_transaction()
    held: tuple[object, dict[str, Application]] | None = session.info.get(_LOCKED)
    if held is None or held[0] is not transaction:
        held = session.info[_LOCKED] = (transaction, {})
    locked = held[1]
    if not nested and no in locked:
        return locked[no]
    app = await repository.get_by_no(session, no, for_update=True)
    if app is None:
        raise RetryLater(f"application {no} is not known (yet)")
    if not nested:
        locked[no] = app
    return app


async def known_id(session: AsyncSession, no: str) -> int:
    """The id of the application an event is about; RetryLater while intake has not made it.

    For an event that only adds a timeline entry (a task decided, a waybill, a courier's report):
    the row is neither loaded as an object nor locked, since the entry changes nothing in it.
    That is a third less CPU per such event than ``known`` (issue 22). An application this
    transaction already holds is not read again (outside a SAVEPOINT, as in ``known``: rolling
    one back may expire the object).
    """
    held: tuple[object, dict[str, Application]] | None = session.info.get(_LOCKED)
    if (
        held is not None
        and not session.in_nested_transaction()
        and held[0] is session.sync_session.get_transaction()
        and no in held[1]
    ):
        return held[1][no].id
    app_id = await repository.id_by_no(session, no)
    if app_id is None:
        raise RetryLater(f"application {no} is not known (yet)")
    return app_id


def _detail(data: BaseModel, *drop: str) -> dict[str, Any]:
    return data.model_dump(mode="json", exclude={"application_no", *drop})


async def note(
    app: Application | int, session: AsyncSession, envelope: Envelope, data: BaseModel, at: datetime | None = None
) -> None:
    """A timeline entry named after the event's subject, whichever service sent it."""
    app_id = app if isinstance(app, int) else app.id
    await repository.add_timeline(
        session, app_id, at=at or envelope.occurred_at, event=envelope.type, detail=_detail(data)
    )


async def _decided(session: AsyncSession, no: str, status: str) -> Application:
    app = await known(session, no)
    if app.status in NOT_YET_ACCEPTED:
        raise RetryLater(f"application {no} is {app.status}; a decision follows acceptance")
    if app.status == "not_accepted":
        raise PoisonEvent(f"application {no} was not accepted; it cannot be {status}")
    return app


async def approved(session: AsyncSession, data: ApplicationApproved, envelope: Envelope) -> None:
    """Every department approved: ``approved`` (and the project's stage with it)."""
    app = await _decided(session, data.application_no, "approved")
    if app.status == "accepted":
        app.status = "approved"
        app.decided_at = data.decided_at
    if data.working_days_used is not None:
        app.working_days_used = data.working_days_used
    app.updated_at = envelope.occurred_at
    # Only create_application links a stage to an application, and only one with a project.
    stage = await projects_repo.stage_of_application(session, app.id) if app.project_no is not None else None
    if stage is not None:
        stage.approved_at = data.decided_at
        stage.working_days_used = data.working_days_used
    await note(app, session, envelope, data, data.decided_at)


async def rejected(session: AsyncSession, data: ApplicationRejected, envelope: Envelope) -> None:
    """One department rejected: ``rejected``, with its reason."""
    app = await _decided(session, data.application_no, "rejected")
    if app.status == "accepted":
        app.status = "rejected"
        app.decided_at = data.decided_at
        app.reason = data.reason
    app.updated_at = envelope.occurred_at
    await note(app, session, envelope, data, data.decided_at)


async def certificate_issued(session: AsyncSession, data: CertificateIssued, envelope: Envelope) -> None:
    """The certificate shows in the view."""
    app = await known(session, data.application_no)
    app.certificate = {
        "certificate_no": data.certificate_no,
        "verification_code": data.verification_code,
        "issued_on": data.issued_on.isoformat(),
    }
    app.updated_at = envelope.occurred_at
    await note(app, session, envelope, data)


async def _complete(session: AsyncSession, app: Application, at: datetime) -> None:
    if app.status in NOT_YET_ACCEPTED:
        raise RetryLater(f"application {app.application_no} is {app.status}; delivery follows approval")
    # Delivered means approved, even when approval's event is still on its way: it will only
    # add its timeline entry.
    if app.status in ("accepted", "approved"):
        app.status = "completed"
        app.completed_at = at
    app.updated_at = at


async def shipment_delivered(session: AsyncSession, data: ShipmentDelivered, envelope: Envelope) -> None:
    """The certificate reached the applicant by mail: ``completed``."""
    app = await known(session, data.application_no)
    await _complete(session, app, data.at)
    await note(app, session, envelope, data, data.at)


async def pickup_completed(
    session: AsyncSession, data: PickupCompleted, envelope: Envelope, *, settings: IntakeSettings
) -> None:
    """Collected at the window: ``completed``, and a trip the applicant made."""
    app = await known(session, data.application_no)
    await _complete(session, app, data.at)
    await note(app, session, envelope, data, data.at)
    await record_visit(
        session,
        settings,
        id_number=app.applicant_id_number,
        kind="pickup",
        window=app.window,
        application_no=app.application_no,
        item_code=app.item_code,
        at=data.at,
    )


async def payment_succeeded(session: AsyncSession, data: PaymentSucceeded, envelope: Envelope) -> None:
    """The fee is paid: the payment shows ``paid`` and the wait for it ends."""
    app = await known(session, data.application_no)
    if app.payment_status != "paid":
        app.payment_status = "paid"
        app.payment_id = data.payment_id
        app.paid_amount_fen = data.amount_fen
        app.paid_at = data.paid_at
        app.updated_at = envelope.occurred_at
    await note(app, session, envelope, data, data.paid_at)
    await resume(session, app, key="payment", at=data.paid_at)


async def payment_outcome(session: AsyncSession, data: PaymentFailed | PaymentExpired, envelope: Envelope) -> None:
    """A failed or expired payment attempt: a timeline entry; the fee stays unpaid."""
    await note(await known_id(session, data.application_no), session, envelope, data)


async def task_assigned(session: AsyncSession, data: TaskAssigned, envelope: Envelope) -> None:
    """A department's task opened; its due date stands in as the deadline until approval gives one."""
    app = await known(session, data.application_no)
    if app.deadline is None:
        app.deadline = data.due_date
    await note(app, session, envelope, data)


async def timeline_only(
    session: AsyncSession,
    data: TaskDecided
    | TaskCancelled
    | ShipmentCreated
    | ShipmentStatusChanged
    | ShipmentFailed
    | ShipmentCancelled
    | PickupReady,
    envelope: Envelope,
) -> None:
    """A step another service made, shown on the timeline."""
    app_id = await known_id(session, data.application_no)
    at = getattr(data, "decided_at", None) or getattr(data, "cancelled_at", None) or getattr(data, "at", None)
    await note(app_id, session, envelope, data, at)


async def card_raised(session: AsyncSession, data: CardRaised, envelope: Envelope) -> None:
    """A yellow or red card on one of the application's clocks."""
    if data.application_no is None:
        return
    await note(await known_id(session, data.application_no), session, envelope, data, data.raised_at)


async def application_clock(session: AsyncSession, data: ClockOpened | ClockRescheduled) -> None:
    """The application's clock (committed working days from acceptance) gives its deadline; it
    moves when a wait for the applicant ends, an extension is granted or a calendar is entered."""
    if data.clock_kind != "application" or data.application_no is None:
        return
    app = await known(session, data.application_no)
    app.deadline = data.due_date
