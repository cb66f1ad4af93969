"""What must hold after the scale runs, read from the databases and from JetStream itself.

- each application: one certificate (approval) and one outbound shipment (delivery);
- no event lost: every producer's outbox rows are all sent and each is one message of its
  stream (the relay publishes with ``Nats-Msg-Id`` = event id, so a resend is not a second
  message); every durable consumer has nothing pending or unacknowledged, and the consuming
  service's inbox holds exactly one row per stream message its filter selects;
- no dead letter anywhere;
- periodic work done once per period: the rows jobs write are keyed by their cause and period
  (approval's reminders by ``dedupe_key``, rating's assessments by month and scope), none twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from owkernel.bus import Bus
from owkernel.contracts import PRODUCERS

# Rows written by periodic jobs, with what makes each one of a kind: no group may hold two.
ONCE_PER_PERIOD = {
    "approval": ("staff_notifications", "dedupe_key"),
    "rating": ("assessments", "month, scope, key, hall"),
}


def plain_dsn(url: str) -> str:
    """asyncpg's form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of one statement on one service's database."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


@dataclass
class Report:
    """Findings: ``problems`` must be empty; ``facts`` are printed."""

    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    def need(self, ok: bool, problem: str) -> None:
        """Record ``problem`` unless ``ok``."""
        if not ok:
            self.problems.append(problem)


async def applications(report: Report, database_urls: dict[str, str], numbers: Iterable[str]) -> None:
    """One certificate and one outbound shipment per application."""
    wanted = sorted(numbers)
    certs = await query(
        database_urls["approval"],
        "select application_no, count(*) n from issued_certificates where application_no = any($1) group by 1",
        wanted,
    )
    ships = await query(
        database_urls["delivery"],
        "select application_no, count(*) n from shipments where direction = 'outbound' and application_no = any($1)"
        " group by 1",
        wanted,
    )
    for what, rows in (("certificate", certs), ("outbound shipment", ships)):
        counts = {r["application_no"]: r["n"] for r in rows}
        wrong = {no: counts.get(no, 0) for no in wanted if counts.get(no, 0) != 1}
        report.need(not wrong, f"not exactly one {what} for {len(wrong)} applications: {dict(list(wrong.items())[:5])}")
    report.facts.append(f"{len(wanted)} applications: {len(certs)} with a certificate, {len(ships)} with a shipment")


async def outboxes_and_dead_letters(report: Report, database_urls: dict[str, str]) -> dict[str, int]:
    """Every outbox drained, no dead letter; returns each component's outbox row count."""
    rows_of: dict[str, int] = {}
    for name, url in database_urls.items():
        (counts,) = await query(
            url,
            "select (select count(*) from outbox) total, (select count(*) from outbox where sent_at is null) unsent,"
            " (select count(*) from dead_letters) dead",
        )
        rows_of[name] = counts["total"]
        report.need(counts["unsent"] == 0, f"{name}: {counts['unsent']} outbox rows not sent")
        report.need(counts["dead"] == 0, f"{name}: {counts['dead']} dead letters")
    return rows_of


async def streams_and_consumers(
    report: Report, js: JetStreamContext, bus: Bus, database_urls: dict[str, str], outbox_rows: dict[str, int]
) -> None:
    """Per stream: messages == the producer's outbox rows; per consumer: nothing pending, and the
    consumer's inbox rows == the stream's messages on its subjects."""
    for producer in PRODUCERS:
        try:
            info = await js.stream_info(bus.stream_name(producer), subjects_filter=">")
        except NotFoundError:
            continue
        messages = info.state.messages
        report.need(
            messages == outbox_rows.get(producer, messages),
            f"stream {producer}: {messages} messages, the outbox holds {outbox_rows.get(producer)} events",
        )
        per_subject: dict[str, int] = dict(info.state.subjects or {})
        for consumer in await js.consumers_info(bus.stream_name(producer)):
            await _consumer(report, consumer, per_subject, database_urls)
        report.facts.append(f"stream {producer}: {messages} messages, replicas {info.config.num_replicas}")


async def _consumer(report: Report, consumer: Any, per_subject: dict[str, int], database_urls: dict[str, str]) -> None:
    durable: str = consumer.name
    filters = list(consumer.config.filter_subjects or [consumer.config.filter_subject])
    expected = sum(n for subject, n in per_subject.items() if any(_matches(f, subject) for f in filters if f))
    report.need(
        consumer.num_pending == 0 and consumer.num_ack_pending == 0,
        f"consumer {durable}: {consumer.num_pending} pending, {consumer.num_ack_pending} unacknowledged",
    )
    service = durable.split("-from-")[0]
    if service in database_urls:
        (row,) = await query(database_urls[service], "select count(*) n from inbox where consumer = $1", durable)
        report.need(row["n"] == expected, f"consumer {durable}: {row['n']} handled, {expected} on its subjects")
        report.facts.append(
            f"consumer {durable}: {row['n']} events handled of {expected} on its subjects, "
            f"{consumer.num_pending} pending, {consumer.num_ack_pending} unacknowledged"
        )


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching (``*`` one token, ``>`` the rest)."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


async def periodic_rows(report: Report, database_urls: dict[str, str]) -> None:
    """No period's row written twice by two replicas' jobs."""
    for service, (table, key) in ONCE_PER_PERIOD.items():
        rows = await query(
            database_urls[service], f"select {key}, count(*) n from {table} group by {key} having count(*) > 1"
        )
        report.need(not rows, f"{service}.{table}: {len(rows)} periods written more than once")
        (total,) = await query(database_urls[service], f"select count(*) n from {table}")
        report.facts.append(f"{service}.{table} (written by periodic jobs): {total['n']} rows, none twice")


async def longest_publish_wait(database_url: str, since: datetime, until: datetime) -> float:
    """The longest an event written between ``since`` and ``until`` waited in the outbox to be
    published (seconds): what the outbox relay waited for JetStream."""
    rows = await query(
        database_url,
        "select coalesce(extract(epoch from max(coalesce(sent_at, now()) - created_at)), 0) s from outbox"
        " where created_at between $1 and $2",
        since,
        until,
    )
    return float(rows[0]["s"])


async def check_all(
    *, database_urls: dict[str, str], nats_urls: list[str], namespace: str, numbers: Iterable[str]
) -> Report:
    """Every check; the report's problems are empty when the platform lost nothing."""
    report = Report()
    await applications(report, database_urls, numbers)
    outbox_rows = await outboxes_and_dead_letters(report, database_urls)
    await periodic_rows(report, database_urls)
    nc = await nats.connect(nats_urls, connect_timeout=5)
    try:
        bus = Bus(nats_urls[0], name="scale-check", namespace=namespace)
        await streams_and_consumers(report, nc.jetstream(), bus, database_urls, outbox_rows)
    finally:
        await nc.close()
    return report


async def settle(check: Any, *, timeout: float, interval: float = 1.0) -> Report:
    """Run ``check()`` until its report has no problem or ``timeout`` passes; the last report."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        report: Report = await check()
        if not report.problems or asyncio.get_running_loop().time() > deadline:
            return report
        await asyncio.sleep(interval)
