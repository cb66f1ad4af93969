"""Events on the wire are CloudEvents 1.0, and a rolling upgrade loses nothing.

Every message the real outbox relay puts on a real nats-server is read back raw and checked with
the CloudEvents SDK; the consumer handles both that and the bare envelope older releases
published; the relay's rollout setting publishes the old form for consumers not yet upgraded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from nats.aio.msg import Msg
from pydantic import ValidationError
from sqlalchemy import insert

from owkernel.contracts import REGISTRY, Envelope, decode, encode, make_envelope
from owkernel.contracts._base import CLOUDEVENTS_CONTENT_TYPE
from owkernel.outbox import CORRELATION_HEADER
from owtest import eventually, fresh_database_url
from owtest.backbone import Consumer, Producer, producer_tables, submitted

SUBJECT = "intake.application.submitted"


class Tap:
    """A plain NATS subscription beside the stream: every raw message as it went on the wire."""

    def __init__(self) -> None:
        self.messages: list[Msg] = []

    async def start(self, producer: Producer) -> None:
        async def keep(msg: Msg) -> None:
            self.messages.append(msg)

        await producer.bus.nc.subscribe(producer.bus.wire_subject("intake.>"), cb=keep)
        await producer.bus.nc.flush()

    async def count(self) -> int:
        return len(self.messages)


def read_with_sdk(msg: Msg) -> SdkCloudEvent:
    """The message as a CloudEvents reader sees it (it raises on anything that is not one)."""
    headers = {k.lower(): v for k, v in (msg.headers or {}).items()}
    event = from_http(HTTPMessage(headers=headers, body=msg.data), JSONFormat(), SdkCloudEvent)
    assert isinstance(event, SdkCloudEvent)
    return event


async def stage_old_row(producer: Producer, no: str, correlation_id: str) -> Envelope:
    """An outbox row as the release before CloudEvents wrote it (the bare envelope), not yet sent."""
    envelope = make_envelope(submitted(no), source="intake", correlation_id=correlation_id)
    async with producer.db.transaction() as session:
        await session.execute(
            insert(producer_tables.outbox).values(
                event_id=envelope.id,
                subject=envelope.type,
                payload=encode(envelope, form="envelope"),
                correlation_id=correlation_id,
                created_at=envelope.occurred_at,
                attempts=0,
            )
        )
    producer.relay.wake()
    return envelope


async def test_every_published_message_is_a_valid_cloudevent(nats_url: str, namespace: str, tmp_path: Path) -> None:
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    tap = Tap()
    await tap.start(producer)
    try:
        for i in range(5):
            async with producer.db.transaction() as session:
                await producer.outbox.add(session, submitted(f"CE{i}"), correlation_id=f"req-{i}")
        await producer.commit_application("CE-NO-CORRELATION")  # outside a request: no correlation id
        old = await stage_old_row(producer, "CE-OLD-ROW", "req-old")

        async def all_applied() -> bool:
            return len(await consumer.counts()) == 7

        await eventually(all_applied)
        assert set((await consumer.counts()).values()) == {1}
        assert await eventually(tap.count) == 7

        for msg in tap.messages:
            event = read_with_sdk(msg)
            assert msg.headers is not None and msg.headers["Content-Type"] == CLOUDEVENTS_CONTENT_TYPE
            assert event.get_specversion() == "1.0" and event.get_type() == SUBJECT
            assert event.get_source() == "intake" and event.get_time() is not None
            # JetStream's de-duplication and the consumers' inboxes key on the same id.
            assert event.get_id() == msg.headers["Nats-Msg-Id"]
            assert event.get_extension("eventversion") == REGISTRY[SUBJECT].version
            assert event.get_datacontenttype() == "application/json"
            data = event.get_data()
            assert isinstance(data, dict)
            assert event.get_extension("correlationid") == msg.headers.get(CORRELATION_HEADER)
            if data["application_no"] == "CE-OLD-ROW":
                # The old row was converted as it was relayed, keeping its identity.
                assert event.get_id() == old.id and event.get_time() == old.occurred_at
        by_no = {json.loads(m.data)["data"]["application_no"]: m for m in tap.messages}
        assert by_no.keys() == {f"CE{i}" for i in range(5)} | {"CE-NO-CORRELATION", "CE-OLD-ROW"}
        assert "correlationid" not in json.loads(by_no["CE-NO-CORRELATION"].data)
        # The correlation id reaches the handler's log context.
        assert consumer.logged_request_ids["CE3"] == "req-3"
        assert consumer.logged_request_ids["CE-OLD-ROW"] == "req-old"
    finally:
        await consumer.stop()
        await producer.stop()


async def test_new_consumer_handles_both_forms_published_by_hand(nats_url: str, namespace: str, tmp_path: Path) -> None:
    """An old producer's bare envelope and a CloudEvent are both handled, and the same event in
    both forms (two releases publishing it during the upgrade) only once."""
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    try:
        wire = producer.bus.wire_subject(SUBJECT)
        old = make_envelope(submitted("BY-HAND-OLD"), source="intake", correlation_id="old-req")
        # Exactly what the release before CloudEvents published: the envelope, Nats-Msg-Id only.
        body = json.loads(encode(old, form="envelope"))
        assert set(body) == {"id", "type", "version", "occurred_at", "source", "correlation_id", "data"}
        await producer.bus.js.publish(wire, encode(old, form="envelope"), headers={"Nats-Msg-Id": old.id})
        new = make_envelope(submitted("BY-HAND-CE"), source="intake")
        await producer.bus.js.publish(
            wire, encode(new), headers={"Nats-Msg-Id": new.id, "Content-Type": CLOUDEVENTS_CONTENT_TYPE}
        )
        # The old event again, now as a CloudEvent under another message id: JetStream does not
        # drop it, the consumer's inbox (keyed by the event id both forms carry) does.
        await producer.bus.js.publish(wire, encode(old), headers={"Nats-Msg-Id": f"{old.id}-again"})
        await producer.commit_application("AFTER")

        async def after_applied() -> bool:
            return "AFTER" in await consumer.counts()

        await eventually(after_applied)
        assert await consumer.counts() == {"BY-HAND-OLD": 1, "BY-HAND-CE": 1, "AFTER": 1}
        assert consumer.logged_request_ids["BY-HAND-OLD"] == "old-req"
        assert await consumer.dead_letters() == []
    finally:
        await consumer.stop()
        await producer.stop()


async def test_the_rollout_setting_publishes_the_old_form(nats_url: str, namespace: str, tmp_path: Path) -> None:
    """The first step of the rollout: upgraded producers still publish what old consumers read."""
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace, wire_form="envelope")
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    tap = Tap()
    await tap.start(producer)
    try:
        async with producer.db.transaction() as session:
            [staged] = await producer.outbox.add_many(session, [submitted("LEGACY-1")], correlation_id="r-1")

        async def applied() -> bool:
            return "LEGACY-1" in await consumer.counts() and len(tap.messages) == 1

        await eventually(applied)
        [msg] = tap.messages
        # What the old consumer parsed: Envelope.model_validate_json of the body, no CloudEvent keys.
        assert Envelope.model_validate_json(msg.data) == staged
        assert "specversion" not in json.loads(msg.data)
        assert msg.headers is not None and "Content-Type" not in msg.headers
        assert msg.headers["Nats-Msg-Id"] == staged.id and msg.headers[CORRELATION_HEADER] == "r-1"
    finally:
        await consumer.stop()
        await producer.stop()


async def test_an_unreadable_row_goes_out_as_it_is_and_stalls_nothing(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    """A row the relay cannot convert is published unchanged for the consumer to dead-letter."""
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    try:
        async with producer.db.transaction() as session:
            await session.execute(
                insert(producer_tables.outbox).values(
                    event_id="broken-1",
                    subject=SUBJECT,
                    payload=b'{"id": "broken-1"}',
                    created_at=datetime.now(UTC),
                    attempts=0,
                )
            )
        await producer.commit_application("BEHIND-IT")

        async def behind_applied() -> bool:
            return "BEHIND-IT" in await consumer.counts()

        await eventually(behind_applied)
        assert await eventually(consumer.dead_letters) == ['{"id": "broken-1"}']
        assert await producer.relay.pending() == 0
    finally:
        await consumer.stop()
        await producer.stop()


def test_a_cloudevent_from_elsewhere_reads_in_any_attribute_order() -> None:
    """Another CloudEvents producer need not write our key order, nor a correlation id."""
    envelope = make_envelope(submitted("ELSEWHERE"), source="intake")
    body = {
        "data": envelope.data,
        "type": SUBJECT,
        "time": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat(),
        "id": "x-1",
        "source": "intake",
        "specversion": "1.0",
    }
    decoded, data = decode(json.dumps(body).encode())
    assert decoded.id == "x-1" and decoded.version == 1 and decoded.correlation_id is None
    assert decoded.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert data == submitted("ELSEWHERE")


@pytest.mark.parametrize(
    "change",
    [
        {"specversion": "0.3"},
        {"datacontenttype": "application/xml"},
        {"time": None},
        {"id": ""},
        {"time": "2026-01-02T03:04:05"},
        {"data": ["not", "an", "object"]},
        {"id": "x" * 65},
    ],
    ids=["other-specversion", "not-json-data", "no-time", "empty-id", "naive-time", "data-not-object", "long-id"],
)
def test_a_cloudevent_we_cannot_honour_is_refused(change: dict[str, object]) -> None:
    """Refused at decoding, so the consumer dead-letters it rather than guess."""
    body = json.loads(encode(make_envelope(submitted("BAD"), source="intake")))
    body.update(change)
    with pytest.raises(ValidationError):
        decode(json.dumps({k: v for k, v in body.items() if v is not None}).encode())


def test_why_consumers_upgrade_first() -> None:
    """The old consumer's parse (``Envelope.model_validate_json``) does not refuse a CloudEvent: it
    takes the id, type and data but not the time, so the rollout must never send it one."""
    envelope = make_envelope(submitted("OLD-READER"), source="intake", correlation_id="r")
    envelope = envelope.model_copy(update={"occurred_at": datetime(2026, 1, 1, tzinfo=UTC)})
    misread = Envelope.model_validate_json(encode(envelope))
    assert misread.id == envelope.id and misread.data == envelope.data
    assert misread.occurred_at != envelope.occurred_at and misread.correlation_id is None
    # The old form is what it reads right, and what the rollout's first step publishes.
    assert Envelope.model_validate_json(encode(envelope, form="envelope")) == envelope
