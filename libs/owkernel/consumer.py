"""Durable, idempotent JetStream consumers: the loop that feeds a service's handlers (owkernel.handlers).

One durable pull consumer per (consuming service, producing stream), filtered to the subjects the
service handles, so events of one producer arrive in the order they were published. One pull
request stays open and events are handled as they arrive, in transactions of up to
``transaction_size`` events: each event's effects and its inbox row (the proof it was handled)
commit together, and acks go out only after the commit. If an event fails, the slice is redone
with a SAVEPOINT per event so the failing one rolls back alone. A crash between commit and ack
redelivers events whose inbox row is already there: they are acknowledged with no second effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.contextvars import bind_contextvars, reset_contextvars

from owkernel import tracing
from owkernel.bus import Bus
from owkernel.contracts import Envelope, EventData, UnknownEventError, decode
from owkernel.db import Database
from owkernel.deadletters import park
from owkernel.handlers import ConsumerGroup, Handler, PoisonEvent, RetryLater, apply_once, claim, handled_ids
from owkernel.metrics import DEAD_LETTERS, EVENTS_HANDLED
from owkernel.outbox import CORRELATION_HEADER
from owkernel.tables import KernelTables
from owkernel.wakeup import Wakeup

log = structlog.get_logger("owkernel.consumer")

# The handlers' side (ConsumerGroup, RetryLater, ...) lives in owkernel.handlers; services import
# it from here as they always have.
__all__ = [
    "ConsumerGroup",
    "ConsumerOptions",
    "ConsumerRunner",
    "Handler",
    "PoisonEvent",
    "RetryLater",
    "StreamConsumer",
    "apply_once",
    "durable_name",
    "handled_ids",
]


def _is_status(msg: Msg) -> bool:
    """A JetStream control message on the pull inbox (no payload, a ``Status`` header)."""
    return msg.headers is not None and Header.STATUS in msg.headers and not msg.data


def durable_name(service: str, producer: str) -> str:
    """The durable consumer through which ``service`` reads ``producer``'s stream."""
    return f"{service}-from-{producer}"


@dataclass(frozen=True)
class ConsumerOptions:
    """Tuning of a consumer loop."""

    batch: int = 256
    max_deliveries: int = 8
    ack_wait: float = 30.0
    fetch_timeout: float = 5.0
    transaction_size: int = 64
    backoff_base: float = 0.5
    backoff_max: float = 60.0


class StreamConsumer:
    """The loop for one durable consumer on one producer's stream."""

    def __init__(
        self,
        *,
        group: ConsumerGroup,
        producer: str,
        subjects: list[str],
        db: Database,
        bus: Bus,
        tables: KernelTables,
        options: ConsumerOptions,
    ) -> None:
        self.group = group
        self.producer = producer
        self.subjects = subjects
        self.db = db
        self.bus = bus
        self.tables = tables
        self.options = options
        self.durable = durable_name(group.service, producer)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._inbox = ""
        self._next_subject = ""
        # Delivered messages not yet taken, and the future the loop waits on while there are none:
        # a list and a bare future rather than an asyncio.Queue read through asyncio.wait_for,
        # which wraps every wait in a task of its own (12.4 -> 4.6 us a wait, one or two an event).
        self._arrived: list[Msg] = []
        self._wakeup = Wakeup()
        self._handling = False
        self._counters: dict[tuple[str, str], Counter] = {}

    def start(self) -> None:
        """Start the consume loop (it waits for NATS if needed)."""
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.durable}")

    async def stop(self) -> None:
        """Graceful drain: finish and ack the batch in hand, then stop fetching."""
        self._stopping = True
        if self._task is not None and not self._handling:
            # Waiting in a fetch holds nothing: stop now rather than wait out its timeout.
            self._task.cancel()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self.options.ack_wait)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            self._task = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        # Delivered to us but not handled: hand them back rather than leave them to ack_wait, so
        # the next instance (a restart, another replica) gets them soon. Delayed until our open
        # pull request has expired: a server that does not notice the inbox is gone would
        # otherwise redeliver them straight into that dead request.
        arrived, self._arrived = self._arrived, []
        for msg in arrived:
            if not _is_status(msg):
                with contextlib.suppress(Exception):
                    await msg.nak(delay=self.options.fetch_timeout)

    async def _subscribe(self) -> None:
        stream = self.bus.stream_name(self.producer)
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.options.ack_wait,
            max_deliver=-1,  # we count deliveries ourselves and dead-letter, never drop silently
            max_ack_pending=max(1000, self.options.batch * 4),
            filter_subjects=[self.bus.wire_subject(s) for s in self.subjects],
        )
        await self.bus.js.add_consumer(stream, config)
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{self.durable}"
        self._inbox = self.bus.nc.new_inbox()
        self._arrived = []
        self._sub = await self.bus.nc.subscribe(self._inbox, cb=self._deliver)

    async def _deliver(self, msg: Msg) -> None:
        self._arrived.append(msg)
        self._wakeup.set()

    async def _arrival(self, timeout: float) -> list[Msg]:
        """Every message delivered so far, waiting up to ``timeout`` for the first; [] if none came."""
        if not self._arrived:
            await self._wakeup.wait(timeout)
        # Whatever woke us is in hand now: a stale wake-up would end the next wait at once.
        self._wakeup.clear()
        arrived, self._arrived = self._arrived, []
        return arrived

    def _count(self, subject: str, outcome: str) -> None:
        # The metric's child per (subject, outcome), kept: labels() takes a lock and checks every
        # label value on each call, once per event.
        counter = self._counters.get((subject, outcome))
        if counter is None:
            counter = self._counters[subject, outcome] = EVENTS_HANDLED.labels(self.group.service, subject, outcome)
        counter.inc()

    async def _run(self) -> None:
        delay = 0.2
        while not self._stopping:
            try:
                if self._sub is None:
                    await self._subscribe()
                    delay = 0.2
                await self._pull()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS or DB away: wait and try again
                log.warning("consumer.loop_error", durable=self.durable, error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _pull(self) -> None:
        """One pull request for up to ``batch`` events, handled as they arrive.

        The server streams the request's messages as they are published; each wait takes the
        first one and then whatever else has already arrived, so an event is handled as soon as
        the loop is free (nats-py's ``fetch(n)`` instead holds what it has until ``n`` came or
        its timeout ended: up to a second for a lone event), and a burst is one transaction.
        The request ends when it has delivered ``batch`` or the server reports it expired.
        """
        expires = self.options.fetch_timeout
        request = {"batch": self.options.batch, "expires": int(expires * 1e9)}
        await self.bus.nc.publish(self._next_subject, json.dumps(request).encode(), reply=self._inbox)
        remaining = self.options.batch
        while remaining > 0 and not self._stopping:
            # A little past the server's expiry: its 408 normally ends the request first.
            arrived = await self._arrival(expires + 0.5)
            if not arrived:
                return
            msgs = [m for m in arrived if not _is_status(m)]
            remaining -= len(msgs)
            if msgs:
                self._handling = True
                try:
                    # SQLite statements run on the loop thread, so one transaction over a long
                    # backlog would hold every request of this service until it commits; a
                    # transaction per slice lets requests queued on the connection go between.
                    step = self.options.transaction_size
                    for start in range(0, len(msgs), step):
                        await self.handle_batch(msgs[start : start + step])
                finally:
                    self._handling = False
            if len(msgs) < len(arrived):
                return  # a status (408 expired, 409, 404): this request is over

    def _backoff(self, deliveries: int) -> float:
        return float(min(self.options.backoff_base * 2 ** max(deliveries - 1, 0), self.options.backoff_max))

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Handle fetched messages in one transaction, then ack, nak or term each (traced: in a
        span that continues the publisher's trace, or links the several it joins)."""
        if not tracing.enabled():
            await self._handle_batch(msgs)
            return
        with tracing.consuming_batch(self.durable, [tracing.message_context(m.headers) for m in msgs]):
            await self._handle_batch(msgs)

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        """Handle fetched messages in one transaction, then ack, nak or term each.

        The common case (every event applies) runs without savepoints and writes the inbox rows
        in one statement; if any event fails, that attempt rolls back whole and the batch runs
        again with a SAVEPOINT per event, so the failing one is isolated and the rest apply.
        """
        decoded: list[tuple[Msg, Envelope | None, EventData | None, str | None]] = []
        for msg in msgs:
            try:
                envelope, data = decode(msg.data)
                decoded.append((msg, envelope, data, None))
            except (UnknownEventError, ValidationError, ValueError) as exc:
                decoded.append((msg, None, None, f"undecodable: {exc}"))
        outcome: list[str] = []
        try:
            if all(env is not None and env.type in self.group.handlers for _, env, _, _ in decoded):
                try:
                    outcome = await self._apply_fast(decoded)
                except Exception as exc:  # noqa: BLE001 - isolate the failing event below
                    log.info("consumer.batch_isolating", durable=self.durable, error=repr(exc))
                    outcome = []
            if not outcome:
                outcome = await self._apply_isolated(decoded)
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing applied, try all again
            log.warning("consumer.batch_failed", durable=self.durable, error=repr(exc))
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=self._backoff(msg.metadata.num_delivered or 1))
            return
        for msg, result in zip(msgs, outcome, strict=True):
            with contextlib.suppress(Exception):
                if result == "ack":
                    await msg.ack()
                elif result == "term":
                    await msg.term()
                else:
                    await msg.nak(delay=self._backoff(msg.metadata.num_delivered or 1))

    async def _seen(self, session: AsyncSession, ids: list[str]) -> set[str]:
        return await handled_ids(session, self.tables, self.durable, ids)

    async def _apply_fast(self, decoded: list[tuple[Msg, Envelope | None, EventData | None, str | None]]) -> list[str]:
        outcome: list[str] = []
        handled: list[str] = []
        async with self.db.transaction() as session:
            # The inbox rows first, in one statement that also says which events are new: a
            # redelivered event's row is there already and it is acknowledged with no effect.
            envelopes = [env for _, env, _, _ in decoded if env is not None]
            fresh = await claim(session, self.tables, self.durable, envelopes)
            for msg, envelope, data, _ in decoded:
                assert envelope is not None and data is not None
                if envelope.id not in fresh:
                    self._count(envelope.type, "duplicate")
                    outcome.append("ack")
                    continue
                fresh.discard(envelope.id)  # the same event twice in this batch: once only
                with _event_scope(msg, envelope):
                    await self.group.handlers[envelope.type](session, data, envelope)
                handled.append(envelope.type)
                outcome.append("ack")
        for subject in handled:
            self._count(subject, "ok")
        return outcome

    async def _apply_isolated(
        self, decoded: list[tuple[Msg, Envelope | None, EventData | None, str | None]]
    ) -> list[str]:
        outcome: list[str] = []
        async with self.db.transaction() as session:
            seen = await self._seen(session, [env.id for _, env, _, _ in decoded if env is not None])
            for msg, maybe_envelope, maybe_data, error in decoded:
                outcome.append(await self._handle_one(session, msg, maybe_envelope, maybe_data, error, seen))
        return outcome

    async def _handle_one(
        self,
        session: AsyncSession,
        msg: Msg,
        envelope: Envelope | None,
        data: EventData | None,
        error: str | None,
        seen: set[str],
    ) -> str:
        subject = self.bus.contract_subject(msg.subject)
        deliveries = msg.metadata.num_delivered or 1
        if envelope is None or data is None:
            await self._dead_letter(session, msg, subject, None, error or "undecodable", deliveries)
            return "term"
        if envelope.id in seen:
            self._count(subject, "duplicate")
            return "ack"
        handler = self.group.handlers.get(envelope.type)
        if handler is None:
            # Filtered subjects only, so this means the subscription and handlers disagree.
            await self._dead_letter(session, msg, subject, envelope.id, "no handler", deliveries)
            return "term"
        with _event_scope(msg, envelope):
            try:
                await apply_once(session, self.tables, self.durable, handler, data, envelope)
            except PoisonEvent as exc:
                await self._dead_letter(session, msg, subject, envelope.id, f"poison: {exc}", deliveries)
                return "term"
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                if deliveries >= self.options.max_deliveries:
                    await self._dead_letter(session, msg, subject, envelope.id, repr(exc), deliveries)
                    return "term"
                level = log.info if isinstance(exc, RetryLater) else log.warning
                level("consumer.retry", deliveries=deliveries, error=repr(exc))
                self._count(subject, "retry")
                return "nak"
        seen.add(envelope.id)
        self._count(subject, "ok")
        return "ack"

    async def _dead_letter(
        self, session: AsyncSession, msg: Msg, subject: str, event_id: str | None, error: str, deliveries: int
    ) -> None:
        log.error("consumer.dead_letter", subject=subject, event_id=event_id, error=error, deliveries=deliveries)
        DEAD_LETTERS.labels(self.group.service, subject).inc()
        async with session.begin_nested():
            await park(
                session,
                self.tables,
                consumer=self.durable,
                event_id=event_id,
                subject=subject,
                payload=msg.data,
                error=error,
                deliveries=deliveries,
            )


@contextlib.contextmanager
def _event_scope(msg: Msg, envelope: Envelope) -> Iterator[None]:
    """Around one event's handler: its ids on every log line and, traced, its span."""
    correlation = (msg.headers or {}).get(CORRELATION_HEADER) or envelope.correlation_id
    if not tracing.enabled():
        # Bound and reset by their tokens: structlog's bound_contextvars first copies the whole
        # context to save what it overwrites (4.6 -> 1.7 us an event).
        tokens = bind_contextvars(request_id=correlation, event_id=envelope.id, event_type=envelope.type)
        try:
            yield
        finally:
            reset_contextvars(**tokens)
        return
    context = tracing.message_context(msg.headers)
    with tracing.handling(envelope.type, envelope.id, context) as ids:
        tokens = bind_contextvars(request_id=correlation, event_id=envelope.id, event_type=envelope.type, **ids)
        try:
            yield
        finally:
            reset_contextvars(**tokens)


class ConsumerRunner:
    """Every stream consumer of one service."""

    def __init__(
        self, group: ConsumerGroup, *, db: Database, bus: Bus, tables: KernelTables, options: ConsumerOptions
    ) -> None:
        self.consumers = [
            StreamConsumer(
                group=group, producer=producer, subjects=subjects, db=db, bus=bus, tables=tables, options=options
            )
            for producer, subjects in group.subjects_by_producer().items()
        ]

    def start(self) -> None:
        """Start every loop."""
        for consumer in self.consumers:
            consumer.start()

    async def stop(self) -> None:
        """Drain every loop."""
        await asyncio.gather(*(c.stop() for c in self.consumers))
