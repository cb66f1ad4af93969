"""A two-party backbone for the kernel's tests and the backbone bench: a producer database with
an outbox and a consumer database with a handler that records each event it applies. Real
SQLite/PostgreSQL, real NATS."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.contextvars import get_contextvars

from owkernel.bus import Bus
from owkernel.consumer import ConsumerGroup, ConsumerOptions, ConsumerRunner, PoisonEvent
from owkernel.contracts import Envelope
from owkernel.contracts._base import WireForm
from owkernel.contracts.common import Applicant
from owkernel.contracts.intake import ApplicationSubmitted
from owkernel.db import Database, new_metadata
from owkernel.outbox import Outbox, OutboxRelay
from owkernel.tables import KernelTables, kernel_tables

producer_md = new_metadata()
producer_tables = kernel_tables(producer_md)
applications = Table("applications", producer_md, Column("no", String(40), primary_key=True))

consumer_md = new_metadata()
consumer_tables = kernel_tables(consumer_md)
applied = Table(
    "applied",
    consumer_md,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_no", String(40), nullable=False),
)


def submitted(no: str) -> ApplicationSubmitted:
    """An event of the real contract."""
    return ApplicationSubmitted(
        application_no=no,
        item_code="ITEM",
        item_version=1,
        applicant=Applicant(id_number="110101199003070000", kind="person", name="测试"),
    )


async def create_schema(db: Database, metadata: MetaData) -> None:
    """Create tables directly (kernel tests need no migration tree of their own)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


@dataclass
class Producer:
    db: Database
    bus: Bus
    relay: OutboxRelay
    outbox: Outbox

    @classmethod
    async def start(
        cls, url: str, nats_url: str, namespace: str, *, poll: float = 0.2, wire_form: WireForm = "cloudevents"
    ) -> Producer:
        db = Database(url)
        await create_schema(db, producer_md)
        bus = Bus(nats_url, name="test-producer", namespace=namespace)
        await bus.connect()
        await bus.ensure_streams()
        relay = OutboxRelay(db, bus, producer_tables, service="producer", poll_seconds=poll, wire_form=wire_form)
        relay.start()
        return cls(db=db, bus=bus, relay=relay, outbox=Outbox(producer_tables, source="intake"))

    async def commit_application(self, no: str) -> None:
        """State change and event in one transaction."""
        async with self.db.transaction() as session:
            await session.execute(insert(applications).values(no=no))
            await self.outbox.add(session, submitted(no))

    async def stop(self) -> None:
        await self.relay.stop()
        await self.bus.close()
        await self.db.dispose()


@dataclass
class Consumer:
    db: Database
    bus: Bus
    runner: ConsumerRunner
    handled_times: dict[str, float] = field(default_factory=dict)
    # The request id each event's handler logged under (the event's correlation id).
    logged_request_ids: dict[str, str | None] = field(default_factory=dict)
    # Events numbered "SLOW…" wait in their handler (transaction open) until the gate opens.
    slow_entered: asyncio.Event = field(default_factory=asyncio.Event)
    slow_gate: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(
        cls,
        url: str,
        nats_url: str,
        namespace: str,
        *,
        options: ConsumerOptions | None = None,
        poison_prefix: str = "POISON",
        create: bool = True,
    ) -> Consumer:
        db = Database(url)
        if create:
            await create_schema(db, consumer_md)
        bus = Bus(nats_url, name="test-consumer", namespace=namespace)
        await bus.connect()
        await bus.ensure_streams()
        group = ConsumerGroup(service="testsvc")
        me = cls(db=db, bus=bus, runner=None)  # type: ignore[arg-type]

        @group.on(ApplicationSubmitted)
        async def on_submitted(session: AsyncSession, data: ApplicationSubmitted, envelope: Envelope) -> None:
            if data.application_no.startswith(poison_prefix):
                raise ValueError("this event always fails")
            if data.application_no.startswith("NEVER"):
                raise PoisonEvent("cannot ever apply")
            if data.application_no.startswith("SLOW"):
                me.slow_entered.set()
                await me.slow_gate.wait()
            await session.execute(insert(applied).values(application_no=data.application_no))
            me.handled_times[data.application_no] = datetime.now(UTC).timestamp()
            me.logged_request_ids[data.application_no] = get_contextvars().get("request_id")

        me.runner = ConsumerRunner(
            group,
            db=db,
            bus=bus,
            tables=consumer_tables,
            options=options or ConsumerOptions(backoff_base=0.05, max_deliveries=3, ack_wait=2.0),
        )
        me.runner.start()
        return me

    async def counts(self) -> dict[str, int]:
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(applied.c.application_no, func.count()).group_by(applied.c.application_no)
            )
            return {r[0]: r[1] for r in rows}

    async def dead_letters(self) -> list[str]:
        async with self.db.transaction() as session:
            rows = await session.execute(select(consumer_tables.dead_letters.c.payload))
            return [r[0].decode() for r in rows]

    async def stop(self) -> None:
        await self.runner.stop()
        await self.bus.close()
        await self.db.dispose()


__all__ = ["Consumer", "KernelTables", "Producer", "applications", "consumer_tables", "producer_tables"]
