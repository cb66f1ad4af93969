"""The backbone's promises, against a real nats-server and a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from owkernel.consumer import ConsumerOptions
from owtest import NatsServer, eventually, fresh_database_url, subprocess_env
from owtest.backbone import Consumer, Producer


async def test_committed_event_is_handled_exactly_once(nats_url: str, namespace: str, tmp_path: Path) -> None:
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    try:
        for i in range(20):
            await producer.commit_application(f"A{i}")

        async def all_applied() -> bool:
            return len(await consumer.counts()) == 20

        await eventually(all_applied)
        assert set((await consumer.counts()).values()) == {1}
        assert await producer.relay.pending() == 0
    finally:
        await consumer.stop()
        await producer.stop()


async def test_rolled_back_transaction_publishes_nothing(nats_url: str, namespace: str, tmp_path: Path) -> None:
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    try:
        try:
            async with producer.db.transaction() as session:
                from owtest.backbone import submitted

                await producer.outbox.add(session, submitted("ROLLED-BACK"))
                raise RuntimeError("the use case fails after staging its event")
        except RuntimeError:
            pass
        await producer.commit_application("AFTER")

        async def after_seen() -> bool:
            return "AFTER" in await consumer.counts()

        # AFTER is the sentinel: committed after the rolled-back one would have been, relayed in
        # order on the same stream, so once it is seen the other had every chance to arrive.
        await eventually(after_seen)
        assert "ROLLED-BACK" not in await consumer.counts()
        assert await producer.relay.pending() == 0
    finally:
        await consumer.stop()
        await producer.stop()


async def test_events_committed_while_nats_is_down_arrive_when_it_returns(tmp_path: Path) -> None:
    # Our own server, so stopping it disturbs no other test.
    server = NatsServer(store_dir=tmp_path / "nats").start()
    producer = await Producer.start(fresh_database_url("prod", tmp_path), server.url, "down")
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), server.url, "down")
    try:
        await producer.commit_application("BEFORE")

        async def before_seen() -> bool:
            return "BEFORE" in await consumer.counts()

        await eventually(before_seen)
        server.stop()
        for i in range(10):
            await producer.commit_application(f"DOWN{i}")
        await asyncio.sleep(0.5)
        assert await producer.relay.pending() == 10, "the outbox keeps every event while NATS is away"
        server.start()

        async def all_seen() -> bool:
            return len(await consumer.counts()) == 11

        await eventually(all_seen, timeout=30)
        assert set((await consumer.counts()).values()) == {1}
        assert await producer.relay.pending() == 0
    finally:
        await consumer.stop()
        await producer.stop()
        server.stop()


async def test_poison_message_is_dead_lettered_after_max_deliveries(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    consumer = await Consumer.start(fresh_database_url("cons", tmp_path), nats_url, namespace)
    try:
        await producer.commit_application("POISON-1")
        await producer.commit_application("NEVER-1")
        await producer.commit_application("GOOD-1")

        async def two_dead() -> list[str]:
            dead = await consumer.dead_letters()
            return dead if len(dead) == 2 else []

        dead = await eventually(two_dead, timeout=20)
        assert any("POISON-1" in d for d in dead) and any("NEVER-1" in d for d in dead)
        counts = await consumer.counts()
        assert counts == {"GOOD-1": 1}, "a failing event rolls back alone; the others apply"
    finally:
        await consumer.stop()
        await producer.stop()


async def test_consumer_killed_after_handling_before_ack_has_no_second_effect(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from owkernel.db import Database
    from owtest.backbone import Consumer as BackboneConsumer
    from owtest.backbone import consumer_md, create_schema

    consumer_url = fresh_database_url("cons", tmp_path)
    db = Database(consumer_url)
    await create_schema(db, consumer_md)
    await db.dispose()
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    try:
        for i in range(5):
            await producer.commit_application(f"K{i}")
        await eventually(lambda: _zero(producer))
        crashed = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "owkernel.tests.crash_consumer", consumer_url, nats_url, namespace],
            timeout=60,
            check=False,
            env=subprocess_env(),
        )
        assert crashed.returncode == 9, "the consumer process died at its first ack"
        survivor = await BackboneConsumer.start(consumer_url, nats_url, namespace, create=False)
        try:
            counts_before = await survivor.counts()
            # The first transaction held whatever had reached the consumer when it began: all five
            # on a quiet machine, the first few (in the producer's order) on a busy one.
            assert counts_before, "the first batch was handled and committed before the crash"
            assert counts_before == {f"K{i}": 1 for i in range(len(counts_before))}, counts_before

            async def redelivered_and_acked() -> bool:
                info = await survivor.bus.js.consumer_info(survivor.bus.stream_name("intake"), "testsvc-from-intake")
                return bool(info.num_ack_pending == 0 and info.num_pending == 0)

            await eventually(redelivered_and_acked, timeout=20)
            assert await survivor.counts() == {f"K{i}": 1 for i in range(5)}, "redelivery had no second effect"
        finally:
            await survivor.stop()
    finally:
        await producer.stop()


async def _zero(producer: Producer) -> bool:
    return await producer.relay.pending() == 0


async def test_stop_finishes_the_events_in_hand_and_hands_back_the_rest(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    """Graceful drain: the transaction in progress commits and is acknowledged; events that had
    arrived but were not begun go back to JetStream (nak, once the open pull request has expired),
    so the next instance handles them within seconds rather than after the minute-long ack wait."""
    consumer_url = fresh_database_url("cons", tmp_path)
    producer = await Producer.start(fresh_database_url("prod", tmp_path), nats_url, namespace)
    options = ConsumerOptions(ack_wait=60.0, transaction_size=1, backoff_base=0.05)
    first = await Consumer.start(consumer_url, nats_url, namespace, options=options)
    try:
        await producer.commit_application("SLOW0")
        await asyncio.wait_for(first.slow_entered.wait(), timeout=10)
        for i in range(20):
            await producer.commit_application(f"B{i}")
        stream_consumer = first.runner.consumers[0]

        async def all_arrived() -> bool:
            return len(stream_consumer._arrived) == 20

        await eventually(all_arrived)
        stopping = asyncio.create_task(first.runner.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done(), "stop must wait for the event in hand"
        first.slow_gate.set()
        await asyncio.wait_for(stopping, timeout=10)
        assert await first.counts() == {"SLOW0": 1}, "the event in hand committed; nothing else began"
    finally:
        await first.stop()

    second = await Consumer.start(consumer_url, nats_url, namespace, options=options, create=False)
    try:

        async def all_applied() -> bool:
            return len(await second.counts()) == 21

        await eventually(all_applied, timeout=20)  # well inside the 60 s ack wait
        assert set((await second.counts()).values()) == {1}
    finally:
        await second.stop()
        await producer.stop()
