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
    and lock nothing new). Not inside a SAVEPOINT: rolling one back may release the lock, and
    leave an object showing what a one-statement UPDATE rolled back with it, so there every event
    reads (and locks) the row itself, into the object as well.
    """
    nested = session.in_nested_transaction()
    transaction = session.sync_session.get_transaction()
    held: tuple[object, dict[str, Application]] | None = session.info.get(_LOCKED)
    if held is None or held[0] is not transaction:
        held = session.info[_LOCKED] = (transaction, {})
    locked = held[1]
    if not nested and no in locked:
        return locked[no]
    app = await repository.get_by_no(session, no, for_update=True, fresh=nested)
    if app is None:
        raise RetryLater(f"application {no} is not known (yet)")
    if not nested:
        locked[no] = app
    return app


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


async def note_by_no(
    session: AsyncSession, no: str, envelope: Envelope, data: BaseModel, at: datetime | None = None
) -> None:
    """``note`` for an event that changes nothing in the application: one statement, neither
    loading nor locking the row (issue 22); RetryLater while intake has not made it."""
    added = await repository.add_timeline_by_no(
        session, no, at=at or envelope.occurred_at, event=envelope.type, detail=_detail(data)
    )
    if not added:
        raise RetryLater(f"application {no} is not known (yet)")


async def _why_unchanged(session: AsyncSession, no: str, status: str) -> None:
    """Raise what a decision (or a delivery) that changed nothing in application ``no`` meets: the
    application is unknown or not accepted yet (RetryLater), or was never accepted (poison)."""
    app = await known(session, no)
    if app.status in NOT_YET_ACCEPTED:
        raise RetryLater(f"application {no} is {app.status}; {status} follows acceptance")
    if app.status == "not_accepted":
        raise PoisonEvent(f"application {no} was not accepted; it cannot be {status}")
    raise RetryLater(f"application {no} changed meanwhile")  # pragma: no cover - the UPDATE saw it otherwise


async def approved(session: AsyncSession, data: ApplicationApproved, envelope: Envelope) -> None:
    """Every department approved: ``approved`` (and the project's stage with it)."""
    # One UPDATE, no SELECT first (issue 22); a late event (the application is completed already)
    # leaves the status as it is.
    values: dict[str, Any] = {"updated_at": envelope.occurred_at}
    if data.working_days_used is not None:
        values["working_days_used"] = data.working_days_used
    changed = await repository.advance_by_no(
        session,
        data.application_no,
        status="approved",
        moves_from=("accepted",),
        stamps={"decided_at": data.decided_at},
        values=values,
        refused_in=(*NOT_YET_ACCEPTED, "not_accepted"),
    )
    if changed is None:
        await _why_unchanged(session, data.application_no, "approved")
        return
    app_id, project_no = changed
    # Only create_application links a stage to an application, and only one with a project.
    stage = await projects_repo.stage_of_application(session, app_id) if project_no is not None else None
    if stage is not None:
        stage.approved_at = data.decided_at
        stage.working_days_used = data.working_days_used
    await note(app_id, session, envelope, data, data.decided_at)


async def rejected(session: AsyncSession, data: ApplicationRejected, envelope: Envelope) -> None:
    """One department rejected: ``rejected``, with its reason."""
    changed = await repository.advance_by_no(
        session,
        data.application_no,
        status="rejected",
        moves_from=("accepted",),
        stamps={"decided_at": data.decided_at, "reason": data.reason},
        values={"updated_at": envelope.occurred_at},
        refused_in=(*NOT_YET_ACCEPTED, "not_accepted"),
    )
    if changed is None:
        await _why_unchanged(session, data.application_no, "rejected")
        return
    await note(changed[0], session, envelope, data, data.decided_at)


async def certificate_issued(session: AsyncSession, data: CertificateIssued, envelope: Envelope) -> None:
    """The certificate shows in the view."""
    certificate = {
        "certificate_no": data.certificate_no,
        "verification_code": data.verification_code,
        "issued_on": data.issued_on.isoformat(),
    }
    changed = await repository.update_by_no(
        session, data.application_no, {"certificate": certificate, "updated_at": envelope.occurred_at}
    )
    if changed is None:
        raise RetryLater(f"application {data.application_no} is not known (yet)")
    await note(changed[0], session, envelope, data)


async def _complete(session: AsyncSession, no: str, at: datetime) -> int:
    """``completed`` (its id), in one UPDATE; RetryLater while it is not approved or accepted."""
    # Delivered means approved, even when approval's event is still on its way: it will only
    # add its timeline entry. A late report leaves a completed (or rejected) status as it is.
    changed = await repository.advance_by_no(
        session,
        no,
        status="completed",
        moves_from=("accepted", "approved"),
        stamps={"completed_at": at},
        values={"updated_at": at},
        refused_in=NOT_YET_ACCEPTED,
    )
    if changed is None:
        raise RetryLater(f"application {no} is not known or not accepted yet; delivery follows approval")
    return changed[0]


async def shipment_delivered(session: AsyncSession, data: ShipmentDelivered, envelope: Envelope) -> None:
    """The certificate reached the applicant by mail: ``completed``."""
    await note(await _complete(session, data.application_no, data.at), session, envelope, data, data.at)


async def pickup_completed(
    session: AsyncSession, data: PickupCompleted, envelope: Envelope, *, settings: IntakeSettings
) -> None:
    """Collected at the window: ``completed``, and a trip the applicant made."""
    await note(await _complete(session, data.application_no, data.at), session, envelope, data, data.at)
    app = await known(session, data.application_no)
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
    await note_by_no(session, data.application_no, envelope, data)


async def task_assigned(session: AsyncSession, data: TaskAssigned, envelope: Envelope) -> None:
    """A department's task opened; its due date stands in as the deadline until approval gives one."""
    await note_by_no(session, data.application_no, envelope, data)
    await repository.set_deadline_if_unset(session, data.application_no, data.due_date)


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
    at = getattr(data, "decided_at", None) or getattr(data, "cancelled_at", None) or getattr(data, "at", None)
    await note_by_no(session, data.application_no, envelope, data, at)


async def card_raised(session: AsyncSession, data: CardRaised, envelope: Envelope) -> None:
    """A yellow or red card on one of the application's clocks."""
    if data.application_no is None:
        return
    await note_by_no(session, data.application_no, envelope, data, data.raised_at)


async def application_clock(session: AsyncSession, data: ClockOpened | ClockRescheduled) -> None:
    """The application's clock (committed working days from acceptance) gives its deadline; it
    moves when a wait for the applicant ends, an extension is granted or a calendar is entered."""
    if data.clock_kind != "application" or data.application_no is None:
        return
    if await repository.update_by_no(session, data.application_no, {"deadline": data.due_date}) is None:
        raise RetryLater(f"application {data.application_no} is not known (yet)")
