"""Intake's event handlers: what it consumes from approval, delivery and the gateway.

The table below registers the domains' reaction functions themselves; each is idempotent
through the kernel's inbox and tolerant of order (``RetryLater`` when the application is not
known yet). Only the clock events, shared by applications and consultations, need a dispatch.
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
from services.intake.deps import kernel_of

consumers = ConsumerGroup(service="intake")

# From approval
consumers.on(ApplicationApproved)(reactions.approved)
consumers.on(ApplicationRejected)(reactions.rejected)
consumers.on(CertificateIssued)(reactions.certificate_issued)
consumers.on(TaskAssigned)(reactions.task_assigned)
consumers.on(TaskDecided)(reactions.timeline_only)
consumers.on(TaskCancelled)(reactions.timeline_only)
consumers.on(CardRaised)(reactions.card_raised)
# From delivery
consumers.on(ShipmentCreated)(reactions.timeline_only)
consumers.on(ShipmentStatusChanged)(reactions.timeline_only)
consumers.on(ShipmentFailed)(reactions.timeline_only)
consumers.on(ShipmentCancelled)(reactions.timeline_only)
consumers.on(PickupReady)(reactions.timeline_only)
consumers.on(ShipmentDelivered)(reactions.shipment_delivered)
# From the gateway
consumers.on(PaymentSucceeded)(reactions.payment_succeeded)
consumers.on(PaymentFailed)(reactions.payment_outcome)
consumers.on(PaymentExpired)(reactions.payment_outcome)


@consumers.on(PickupCompleted)
async def on_pickup(session: AsyncSession, data: PickupCompleted, envelope: Envelope) -> None:
    """completed, and a trip to the window (dated in the hall's zone from the kernel's settings)."""
    await reactions.pickup_completed(session, data, envelope, settings=kernel_of(session).settings)


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
