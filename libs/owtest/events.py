"""Other services' events as their producers publish them, and the sentinel that says "every
event before this one has been handled" (so a test asserts that something had no effect without
guessing how long to wait for it).

Factories build the common events with defaults any test can take; a service's harness passes
what its tests read back (its item names, departments, applicants)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import select

from owkernel.bus import Bus
from owkernel.contracts import Envelope, EventData, decode, encode, make_envelope, spec_for
from owkernel.contracts._base import CLOUDEVENTS_CONTENT_TYPE
from owkernel.contracts.approval import ApplicationApproved, ApplicationRejected, CertificateIssued
from owkernel.contracts.common import Applicant, DeliveryChoice, ItemSnapshot, WindowKind
from owkernel.contracts.intake import ApplicationAccepted
from owtest.service import eventually


def accepted(
    application_no: str,
    *,
    id_number: str,
    name: str = "测试居民",
    phone: str | None = "13800000000",
    department: str = "D1",
    departments: list[str] | None = None,
    lead: str | None = None,
    item_code: str = "ITEM-1",
    item_name: str = "测试事项",
    item_window: WindowKind = "general",
    window: WindowKind = "general",
    legal_days: int = 20,
    committed_days: int = 5,
    trips: int = 0,
    clerk: str | None = "clerk1",
    accepted_at: datetime | None = None,
    project_no: str | None = None,
    stage: int | None = None,
    delivery: DeliveryChoice | None = None,
) -> ApplicationAccepted:
    """intake.application.accepted: a window accepted an application (picked up at the window
    unless ``delivery`` says otherwise; accepted now unless ``accepted_at``)."""
    return ApplicationAccepted(
        application_no=application_no,
        applicant=Applicant(id_number=id_number, kind="person", name=name, phone=phone),
        item=ItemSnapshot(
            code=item_code,
            version=1,
            name=item_name,
            kind="licensing",
            department=department,
            departments=departments or [department],
            lead_department=lead,
            window=item_window,
            legal_days=legal_days,
            committed_days=committed_days,
            trips=trips,
            fee_fen=0,
        ),
        window=window,
        clerk=clerk,
        accepted_at=accepted_at or datetime.now(UTC),
        project_no=project_no,
        stage=stage,
        delivery=delivery or DeliveryChoice(method="window"),
    )


def approved(
    application_no: str, *, departments: list[str], item_code: str = "ITEM-1", decided_at: datetime | None = None
) -> ApplicationApproved:
    """approval.application.approved: every department approved."""
    return ApplicationApproved(
        application_no=application_no,
        item_code=item_code,
        departments=departments,
        decided_at=decided_at or datetime.now(UTC),
    )


def rejected(
    application_no: str, *, department: str, reason: str = "材料不符", item_code: str = "ITEM-1"
) -> ApplicationRejected:
    """approval.application.rejected: one department rejected it."""
    return ApplicationRejected(
        application_no=application_no,
        item_code=item_code,
        department=department,
        reason=reason,
        decided_at=datetime.now(UTC),
    )


def certificate_issued(
    application_no: str, *, holder_id_number: str, holder_name: str = "测试居民", item_code: str = "ITEM-1"
) -> CertificateIssued:
    """approval.certificate.issued for an approved application (certificate ``CERT-<no>``)."""
    return CertificateIssued(
        certificate_no="CERT-" + application_no,
        application_no=application_no,
        holder_id_number=holder_id_number,
        holder_name=holder_name,
        item_code=item_code,
        item_name="测试事项",
        issued_on=date.today(),
        verification_code="VC123456",
    )


@dataclass
class Producers:
    """Plays the other services: publishes their events on the test's namespace as their outbox
    relays do (a CloudEvent, ``Nats-Msg-Id`` = the event id, JetStream's de-duplication key)."""

    bus: Bus

    async def publish(self, data: EventData, *, source: str | None = None, msg_id: str | None = None) -> Envelope:
        """Publish one event of its producer's contract (``source``: the producer, by default);
        ``msg_id`` other than the envelope id gets past JetStream's duplicate window and reaches
        the consumer's inbox (a true redelivery)."""
        envelope = make_envelope(data, source=source or spec_for(data).producer)
        await self.send(envelope, msg_id=msg_id)
        return envelope

    async def send(self, envelope: Envelope, *, msg_id: str | None = None) -> None:
        """Publish an existing envelope (again)."""
        headers = {"Nats-Msg-Id": msg_id or envelope.id, "Content-Type": CLOUDEVENTS_CONTENT_TYPE}
        await self.bus.js.publish(self.bus.wire_subject(envelope.type), encode(envelope), headers=headers)


P = TypeVar("P", bound=Producers)


@contextlib.asynccontextmanager
async def producers_on(
    nats_url: str,
    namespace: str,
    *,
    name: str = "test-producers",
    delete_streams: bool = False,
    kind: type[P] = Producers,  # type: ignore[assignment]
) -> AsyncIterator[P]:
    """A bus on the test's namespace with every producer's stream, for publishing as they do
    (``kind``: a service's own Producers with its shortcuts)."""
    bus = Bus(nats_url, name=name, namespace=namespace)
    await bus.connect()
    await bus.ensure_streams()
    try:
        yield kind(bus)
    finally:
        if delete_streams:
            with contextlib.suppress(Exception):
                await bus.delete_streams()
        await bus.close()


async def stream_events(bus: Bus, producer: str, subject: str | None = None) -> list[tuple[Envelope, EventData]]:
    """Every event ``producer`` has on its stream so far (only ``subject``'s, when given), in
    order: read by a throwaway consumer that fetches exactly what was pending when it was made."""
    try:
        sub = await bus.js.pull_subscribe(
            bus.wire_subject(subject or f"{producer}.>"),
            stream=bus.stream_name(producer),
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=5.0),
        )
    except NotFoundError:  # the producer has published nothing yet: no stream
        return []
    out: list[tuple[Envelope, EventData]] = []
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        while len(out) < pending:
            out.extend(decode(m.data) for m in await sub.fetch(min(500, pending - len(out)), timeout=5))
    finally:
        await sub.unsubscribe()
    return out


async def handled(kernel: Any, envelope: Envelope, *, timeout: float = 10.0) -> None:
    """Wait until the service of ``kernel`` has handled the event (its id is in the inbox)."""
    inbox = kernel.tables.inbox

    async def in_inbox() -> bool:
        async with kernel.db.transaction() as session:
            found = await session.execute(select(inbox.c.event_id).where(inbox.c.event_id == envelope.id))
            return found.first() is not None

    await eventually(in_inbox, timeout=timeout)


async def sentinel(producers: Producers, kernel: Any, data: EventData, *, timeout: float = 10.0) -> Envelope:
    """Publish ``data`` as a sentinel and wait until the service has handled it: its consumer
    takes a stream's events in order, so every event published before it on the same stream has
    been handled too (or put off with RetryLater). Then a test may assert they had no effect."""
    envelope = await producers.publish(data)
    await handled(kernel, envelope, timeout=timeout)
    return envelope
