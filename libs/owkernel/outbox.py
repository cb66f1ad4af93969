"""Transactional outbox: events are rows written with the state change, relayed to NATS after.

``Outbox.add`` writes the event in the caller's transaction (the row goes in with the commit),
so an event exists exactly when its state change committed (no lost events, no phantom ones on
rollback). ``OutboxRelay`` publishes unsent rows in batches with ``Nats-Msg-Id`` = event id (JetStream drops a duplicate
inside its window, consumers' inboxes drop any later one), marks them sent, and is woken by
the commit itself rather than only by a poll.

Rows hold the event as it goes on the wire, a CloudEvent (``owkernel.contracts.encode``); a row an
older release wrote holds the bare envelope. The relay publishes every row in the form it is told
(``wire_form``), converting only a row of the other form: so every message it publishes is a
CloudEvent, except while a rolling upgrade's first step asks for the old form for consumers not
yet upgraded (docs/conventions.md, "Events on the wire: CloudEvents").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from nats.js.api import PubAck
from pydantic import ValidationError
from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from owkernel import tracing
from owkernel.bus import Bus
from owkernel.contracts import EventData, encode, make_envelope
from owkernel.contracts._base import CLOUDEVENTS_CONTENT_TYPE, Envelope, WireForm, in_wire_form
from owkernel.db import Database, request_commit_hooks, stage_rows
from owkernel.logs import current_request_id
from owkernel.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_PUBLISHED
from owkernel.tables import KernelTables
from owkernel.tracing import current_traceparent, publishing
from owkernel.wakeup import Wakeup

log = structlog.get_logger("owkernel.outbox")

CORRELATION_HEADER = "X-Correlation-ID"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the kernel writes UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Outbox:
    """Writes events into the current transaction."""

    def __init__(self, tables: KernelTables, *, source: str) -> None:
        self.table = tables.outbox
        self.source = source

    async def add(self, session: AsyncSession, data: EventData, *, correlation_id: str | None = None) -> Envelope:
        """Stage ``data`` as an event; it is published only if the transaction commits."""
        (envelope,) = await self.add_many(session, [data], correlation_id=correlation_id)
        return envelope

    async def add_many(
        self, session: AsyncSession, events: Sequence[EventData], *, correlation_id: str | None = None
    ) -> list[Envelope]:
        """Stage several events in one INSERT (a scan that raises thousands of cards at once)."""
        if not events:
            return []
        correlation = correlation_id or current_request_id()
        traceparent = current_traceparent()
        envelopes = [make_envelope(data, source=self.source, correlation_id=correlation) for data in events]
        rows = [
            {
                "event_id": e.id,
                "subject": e.type,
                "payload": encode(e),
                "correlation_id": e.correlation_id,
                "created_at": e.occurred_at,
                "attempts": 0,
                "traceparent": traceparent,
            }
            for e in envelopes
        ]
        # Written with the commit, in one INSERT for the whole transaction (or now, in a savepoint).
        if not await stage_rows(session, self.table, rows):
            await session.execute(insert(self.table), rows)
        request_commit_hooks(session)
        return envelopes


class OutboxRelay:
    """Background task publishing committed outbox rows to JetStream."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        tables: KernelTables,
        *,
        service: str,
        batch: int = 500,
        poll_seconds: float = 1.0,
        publish_timeout: float = 5.0,
        keep_sent: timedelta = timedelta(days=7),
        wire_form: WireForm = "cloudevents",
        mark_delay: float = 0.05,
    ) -> None:
        self.db = db
        self.bus = bus
        self.table = tables.outbox
        self.service = service
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.publish_timeout = publish_timeout
        self.keep_sent = keep_sent
        self.wire_form = wire_form
        self.mark_delay = mark_delay
        self._wakeup = Wakeup()  # set by a commit that wrote events
        # Rows JetStream acknowledged and not yet marked sent: marked in the transaction of the
        # relay's next statement (the next round's SELECT) instead of one of their own, which
        # halves the relay's transactions when events trickle in one commit at a time. At most
        # ``mark_delay`` later with no next round, they are marked alone; until then a crash only
        # republishes them, which JetStream's duplicate window and the consumers' inboxes drop.
        self._acked: list[int] = []
        self._marking = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._last_cleanup = datetime.now(UTC)
        self._published = OUTBOX_PUBLISHED.labels(service)
        self._pending_gauge = OUTBOX_PENDING.labels(service)
        self._oldest_age = OUTBOX_OLDEST_AGE.labels(service)
        # Every round runs the same statements: built once, each round only binds its values
        # (building an IN list and its cache key cost more than running it on SQLite).
        table = self.table
        unsent = select(
            table.c.id,
            table.c.event_id,
            table.c.subject,
            table.c.payload,
            table.c.correlation_id,
            table.c.traceparent,
            table.c.created_at,
        ).where(table.c.sent_at.is_(None))
        self._unsent_rows = unsent.order_by(table.c.id).limit(batch)
        self._oldest_unsent = unsent.order_by(table.c.id).limit(1)
        self._mark_sent = (
            update(table).where(table.c.id.in_(bindparam("ids", expanding=True))).values(sent_at=bindparam("now"))
        )
        # Each of those statements is atomic alone. On PostgreSQL they run in autocommit, which
        # saves a BEGIN and a COMMIT round trip each; SQLite keeps its transactions (switching its
        # driver's isolation would undo db.configure_sqlite, and it has no round trips to save).
        self._autocommit: AsyncEngine | None = (
            db.engine.execution_options(isolation_level="AUTOCOMMIT")
            if db.engine.dialect.name == "postgresql"
            else None
        )
        db.on_commit(self.wake)

    def wake(self) -> None:
        """Called after a commit that wrote events: relay now."""
        self._wakeup.set()

    def start(self) -> None:
        """Start the relay loop."""
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        """Finish the batch in hand, then stop."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
            self._task = None
        # What was acknowledged goes down as sent now, so the next start republishes none of it.
        try:
            await self._marked_then(None)
        except Exception as exc:  # noqa: BLE001 - the database is away: republished later, dropped as duplicates
            log.warning("outbox.mark_failed", error=str(exc), rows=len(self._acked))

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            await self._wakeup.wait(self.mark_delay if self._acked else self.poll_seconds)
            if self._stopping:
                break
            try:
                while not self._stopping:
                    sent, complete = await self.drain_once()
                    if not complete:
                        raise ConnectionError("some events were not acknowledged by JetStream")
                    if sent < self.batch:
                        break
                failures = 0
                await self._maybe_cleanup()
            except Exception as exc:  # noqa: BLE001 - the relay must outlive NATS or DB outages
                failures += 1
                delay = min(0.2 * 2**failures, 5.0)
                log.warning("outbox.relay_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)

    async def drain_once(self) -> tuple[int, bool]:
        """Publish one batch of unsent rows. Returns (rows sent, whether all of them went)."""
        if not self.bus.connected:
            await self._observe_waiting()
            return 0, False
        rows = await self._marked_then(self._unsent_rows)
        self._observe_oldest(rows)
        if not rows:
            self._pending_gauge.set(0)
            return 0, True
        # Publish the whole batch before awaiting any ack: one round trip's latency per batch,
        # not per event. Order on the wire follows the outbox order.
        futures: list[asyncio.Future[PubAck]] = []
        for row in rows:
            payload, headers = self._message(row)
            # No wait_stall: with a timeout every call goes through asyncio.wait_for, which yields
            # to the loop once per event, and behind busy request handlers 500 yields took 250 ms.
            # A batch never exceeds the client's pending limit, so the semaphore never waits.
            futures.append(await self._publish(row, payload, headers))
        done, pending = await asyncio.wait(futures, timeout=self.publish_timeout)
        for fut in pending:
            fut.cancel()
        acked = [
            row.id
            for row, fut in zip(rows, futures, strict=True)
            if fut in done and not fut.cancelled() and fut.exception() is None
        ]
        if acked:
            self._acked.extend(acked)
            self._published.inc(len(acked))
        if len(acked) < len(rows):
            first_error = next((f.exception() for f in futures if f in done and f.exception() is not None), None)
            log.warning("outbox.publish_incomplete", sent=len(acked), batch=len(rows), error=str(first_error))
        return len(acked), len(acked) == len(rows)

    async def _publish(self, row: Any, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
        """Hand one row to the client; traced, the publish span's context rides in its headers."""
        subject = self.bus.wire_subject(row.subject)
        if not tracing.enabled():
            return await self.bus.js.publish_async(subject, payload, headers=headers)
        with publishing(row.subject, row.traceparent, headers):
            return await self.bus.js.publish_async(subject, payload, headers=headers)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one of the relay's statements, committed when the block ends.

        A connection of its own rather than a session: the relay's statements need none of a
        unit of work's machinery (staged rows, commit hooks), which costs on every round.
        """
        if self._autocommit is not None:
            async with self._autocommit.connect() as conn:
                yield conn
        else:
            async with self.db.engine.begin() as conn:
                yield conn

    async def _marked_then(self, statement: Select[Any] | None) -> Sequence[Any]:
        """Mark the acknowledged rows sent, then read the oldest unsent rows (a batch, or the
        oldest one; oldest first), in one transaction."""
        async with self._marking:
            acked, self._acked = self._acked, []
            if not acked and statement is None:
                return []
            try:
                async with self._connection() as conn:
                    if acked:
                        await conn.execute(self._mark_sent, {"ids": acked, "now": datetime.now(UTC)})
                    rows: Sequence[Any] = [] if statement is None else (await conn.execute(statement)).all()
            except BaseException:
                self._acked[:0] = acked  # not marked: the next statement tries again
                raise
        return rows

    async def _observe_waiting(self) -> None:
        """The gauge while nothing can be published (NATS away): that is when events age."""
        self._observe_oldest(await self._marked_then(self._oldest_unsent))

    def _observe_oldest(self, rows: Sequence[Any]) -> None:
        """The age of the oldest unsent row (the first of an oldest-first batch), for the gauge."""
        age = (datetime.now(UTC) - _aware(rows[0].created_at)).total_seconds() if rows else 0.0
        self._oldest_age.set(max(age, 0.0))

    def _message(self, row: Any) -> tuple[bytes, dict[str, str]]:
        """One outbox row as the payload and headers it is published with."""
        headers = {"Nats-Msg-Id": row.event_id}
        if self.wire_form == "cloudevents":
            # The payload is the whole event (structured mode); the content type says so, as
            # later drafts of the NATS binding ask, and as HTTP-minded CloudEvents readers expect.
            headers["Content-Type"] = CLOUDEVENTS_CONTENT_TYPE
        if row.correlation_id:
            headers[CORRELATION_HEADER] = row.correlation_id
        try:
            return in_wire_form(row.payload, self.wire_form), headers
        except ValidationError as exc:
            # Unreadable in either form: sent as it is, for consumers to dead-letter, rather than
            # stall every row behind it.
            log.warning("outbox.unconvertible_row", event_id=row.event_id, error=str(exc))
            return bytes(row.payload), headers

    async def pending(self) -> int:
        """How many events wait to be published (acknowledged ones are marked sent first)."""
        await self._marked_then(None)
        async with self.db.transaction() as session:
            count = (
                await session.execute(
                    select(func.count()).select_from(self.table).where(self.table.c.sent_at.is_(None))
                )
            ).scalar_one()
        self._pending_gauge.set(count)
        return int(count)

    async def _maybe_cleanup(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_cleanup < timedelta(minutes=10):
            return
        self._last_cleanup = now
        async with self.db.transaction() as session:
            await session.execute(delete(self.table).where(self.table.c.sent_at < now - self.keep_sent))
        await self.pending()
