"""Intake's event handlers: what it consumes from approval, delivery and the gateway.

Every handler is idempotent through the kernel's inbox and tolerant of order (``RetryLater``
when the application is not known yet). They only delegate to the domains' reaction functions.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.consumer import ConsumerGroup
from owkernel.contracts import Envelope
from owkernel.contracts.approval import (
    ApplicationApproved,
    ApplicationRejected,
    CardRaised,
    CertificateIssued,
    ClockClosed,
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
from services.intake.applications import reactions
from services.intake.consultations import service as consultations
from services.intake.settings import IntakeSettings, get_settings

consumers = ConsumerGroup(service="intake")


class _Context:
    """The running app's settings (the hall's time zone dates the visits handlers record)."""

    settings: IntakeSettings | None = None


def configure(settings: IntakeSettings) -> None:
    """Called by ``create_app`` with the settings the handlers should use."""
    _Context.settings = settings


def _settings() -> IntakeSettings:
    return _Context.settings or get_settings()


@consumers.on(ApplicationApproved)
async def on_approved(session: AsyncSession, data: ApplicationApproved, envelope: Envelope) -> None:
    """approved."""
    await reactions.approved(session, data, envelope)


@consumers.on(ApplicationRejected)
async def on_rejected(session: AsyncSession, data: ApplicationRejected, envelope: Envelope) -> None:
    """rejected."""
    await reactions.rejected(session, data, envelope)


@consumers.on(CertificateIssued)
async def on_certificate(session: AsyncSession, data: CertificateIssued, envelope: Envelope) -> None:
    """The certificate shows in the view."""
    await reactions.certificate_issued(session, data, envelope)


@consumers.on(TaskAssigned)
async def on_task_assigned(session: AsyncSession, data: TaskAssigned, envelope: Envelope) -> None:
    """Timeline (and a provisional deadline)."""
    await reactions.task_assigned(session, data, envelope)


@consumers.on(TaskDecided)
async def on_task_decided(session: AsyncSession, data: TaskDecided, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(TaskCancelled)
async def on_task_cancelled(session: AsyncSession, data: TaskCancelled, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(CardRaised)
async def on_card(session: AsyncSession, data: CardRaised, envelope: Envelope) -> None:
    """Timeline of the application the card is about."""
    await reactions.card_raised(session, data, envelope)


@consumers.on(ClockOpened)
async def on_clock_opened(session: AsyncSession, data: ClockOpened, envelope: Envelope) -> None:
    """An application's deadline; a consultation's reply due date."""
    if data.clock_kind == "application":
        await reactions.application_clock(session, data)
    elif data.clock_kind == "consultation":
        await consultations.clock_opened(session, data)


@consumers.on(ClockRescheduled)
async def on_clock_rescheduled(session: AsyncSession, data: ClockRescheduled, envelope: Envelope) -> None:
    """The deadline (or a consultation's reply due date) moved."""
    if data.clock_kind == "application":
        await reactions.application_clock(session, data)
    elif data.clock_kind == "consultation":
        await consultations.clock_rescheduled(session, data)


@consumers.on(ClockClosed)
async def on_clock_closed(session: AsyncSession, data: ClockClosed, envelope: Envelope) -> None:
    """Whether a consultation was answered on time."""
    if data.clock_kind == "consultation":
        await consultations.clock_closed(session, data)


@consumers.on(ShipmentCreated)
async def on_shipment_created(session: AsyncSession, data: ShipmentCreated, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(ShipmentStatusChanged)
async def on_shipment_status(session: AsyncSession, data: ShipmentStatusChanged, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(ShipmentFailed)
async def on_shipment_failed(session: AsyncSession, data: ShipmentFailed, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(ShipmentCancelled)
async def on_shipment_cancelled(session: AsyncSession, data: ShipmentCancelled, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(PickupReady)
async def on_pickup_ready(session: AsyncSession, data: PickupReady, envelope: Envelope) -> None:
    """Timeline: the certificate waits at the window."""
    await reactions.timeline_only(session, data, envelope)


@consumers.on(ShipmentDelivered)
async def on_delivered(session: AsyncSession, data: ShipmentDelivered, envelope: Envelope) -> None:
    """completed."""
    await reactions.shipment_delivered(session, data, envelope)


@consumers.on(PickupCompleted)
async def on_pickup(session: AsyncSession, data: PickupCompleted, envelope: Envelope) -> None:
    """completed, and a trip to the window."""
    await reactions.pickup_completed(session, data, envelope, settings=_settings())


@consumers.on(PaymentSucceeded)
async def on_paid(session: AsyncSession, data: PaymentSucceeded, envelope: Envelope) -> None:
    """Fee paid; the wait for it ends."""
    await reactions.payment_succeeded(session, data, envelope)


@consumers.on(PaymentFailed)
async def on_payment_failed(session: AsyncSession, data: PaymentFailed, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.payment_outcome(session, data, envelope)


@consumers.on(PaymentExpired)
async def on_payment_expired(session: AsyncSession, data: PaymentExpired, envelope: Envelope) -> None:
    """Timeline."""
    await reactions.payment_outcome(session, data, envelope)
