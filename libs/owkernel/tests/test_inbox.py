"""The consumer's inbox on its fast path: one statement both checks and records which events of
a transaction are new, so a redelivered event, or the same event twice in one batch, is applied
once and acknowledged; a batch whose handler fails applies nothing of it. And the statements the
per-event machinery sends (a consumer transaction's, a relay round's), so that a change which adds
one shows here rather than only in the platform bench's statements per application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nats.aio.msg import Msg
from sqlalchemy import event, func, select

from owkernel.contracts import Envelope, encode, make_envelope
from owkernel.db import Database
from owkernel.handlers import handled_ids
from owtest import eventually, fresh_database_url
from owtest.backbone import Consumer, Producer, consumer_tables, producer_tables, submitted


def message(consumer: Consumer, envelope: Envelope, delivered: int = 1) -> Msg:
    """A message as JetStream delivers it (its reply subject is where the ack goes)."""
    sequence = abs(hash(envelope.id)) % 10**9
    return Msg(
        _client=consumer.bus.nc,
        subject=consumer.bus.wire_subject(envelope.type),
        reply=f"$JS.ACK.INTAKE.test.{delivered}.{sequence}.{sequence}.0.0",
        data=encode(envelope),
        headers={"Nats-Msg-Id": envelope.id},
    )


async def inbox_rows(consumer: Consumer) -> int:
    async with consumer.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(consumer_tables.inbox))).scalar_one())


async def test_redelivered_and_repeated_events_apply_once(nats_url: str, namespace: str, tmp_path: Path) -> None:
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    loop = consumer.runner.consumers[0]
    first, second, third = (make_envelope(submitted(f"A{i}"), source="intake") for i in range(3))
    try:
        # The same event twice in one batch (a redelivery that arrived with the original).
        await loop.handle_batch([message(consumer, first), message(consumer, first, 2), message(consumer, second)])
        assert await consumer.counts() == {"A0": 1, "A1": 1}
        # A later batch with an event handled before (a crash between commit and ack).
        await loop.handle_batch([message(consumer, first, 3), message(consumer, third)])
        assert await consumer.counts() == {"A0": 1, "A1": 1, "A2": 1}
        assert await inbox_rows(consumer) == 3
        async with consumer.db.transaction() as session:
            handled = await handled_ids(session, consumer_tables, loop.durable, [first.id, third.id, "other"])
        assert handled == {first.id, third.id}
    finally:
        await consumer.stop()


async def test_a_failing_event_leaves_no_inbox_row(nats_url: str, namespace: str, tmp_path: Path) -> None:
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    loop = consumer.runner.consumers[0]
    good = make_envelope(submitted("OK1"), source="intake")
    bad = make_envelope(submitted("POISON1"), source="intake")  # its handler always raises
    try:
        # The fast path's transaction (inbox rows first) rolls back whole; the isolated retry
        # applies the good one and leaves the failing one unrecorded, to be redelivered.
        await loop.handle_batch([message(consumer, good), message(consumer, bad)])
        assert await consumer.counts() == {"OK1": 1}
        async with consumer.db.transaction() as session:
            handled = await handled_ids(session, consumer_tables, loop.durable, [good.id, bad.id])
        assert handled == {good.id}
    finally:
        await consumer.stop()


def count_statements(db: Database) -> list[str]:
    """Every statement ``db`` sends from now on."""
    sent: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split()[0].upper())

    return sent


async def test_a_transaction_checks_and_records_its_events_in_one_statement(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    loop = consumer.runner.consumers[0]
    try:
        batch = [message(consumer, make_envelope(submitted(f"S{i}"), source="intake")) for i in range(3)]
        sent = count_statements(consumer.db)
        await loop.handle_batch(batch)
        # The inbox's one INSERT .. RETURNING, then each handler's INSERT.
        assert sent == ["INSERT"] * 4
        assert await consumer.counts() == {"S0": 1, "S1": 1, "S2": 1}
    finally:
        await consumer.stop()


async def test_a_relay_round_is_two_statements(nats_url: str, namespace: str, tmp_path: Path) -> None:
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace, poll=60)
    try:
        await producer.relay.stop()  # rounds by hand below
        for i in range(3):
            await producer.commit_application(f"R{i}")
        sent = count_statements(producer.db)
        assert await producer.relay.drain_once() == (3, True)
        # The unsent rows; the acknowledged ones are marked by the next round's transaction.
        assert sent == ["SELECT"]
        assert await producer.relay.drain_once() == (0, True)
        # One UPDATE marking every acknowledged one, with that round's SELECT.
        assert sent == ["SELECT", "UPDATE", "SELECT"]
        assert await producer.relay.pending() == 0
    finally:
        await producer.stop()


async def unsent_rows(producer: Producer) -> int:
    """Outbox rows not marked sent, read from the table (``pending()`` would mark first)."""
    table = producer_tables.outbox
    async with producer.db.transaction() as session:
        count = select(func.count()).select_from(table).where(table.c.sent_at.is_(None))
        return int((await session.execute(count)).scalar_one())


async def test_an_acknowledged_row_is_marked_sent_without_a_next_round(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    # No commit follows and the poll is a minute away: the relay marks the row alone, mark_delay
    # after JetStream acknowledged it, rather than leaving it to be published again.
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace, poll=60)
    try:
        await producer.commit_application("M1")

        async def marked() -> bool:
            return await unsent_rows(producer) == 0

        await eventually(marked, timeout=5)
    finally:
        await producer.stop()


async def test_stopping_marks_what_jetstream_acknowledged(nats_url: str, namespace: str, tmp_path: Path) -> None:
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace, poll=60)
    try:
        producer.relay.mark_delay = 60.0  # the marks wait: only stop() writes them now
        await producer.commit_application("S1")
        stream = producer.bus.stream_name("intake")

        async def published() -> bool:
            return (await producer.bus.js.stream_info(stream)).state.messages >= 1

        await eventually(published, timeout=5)
        assert await unsent_rows(producer) == 1
        await producer.relay.stop()
        # The next start (a restart, another replica) republishes none of it.
        assert await unsent_rows(producer) == 0
    finally:
        await producer.stop()
