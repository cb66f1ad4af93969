"""The kernel's own tables, added to each service's metadata (so each lives in that service's
database and migration tree): outbox, inbox, dead letters and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a log table.
BigId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class KernelTables:
    """Handles on the kernel tables of one service's metadata."""

    outbox: Table
    inbox: Table
    dead_letters: Table
    idempotency: Table


def kernel_tables(metadata: MetaData) -> KernelTables:
    """Define the kernel tables on ``metadata`` (call once per service, next to its models)."""
    return KernelTables(
        outbox=_outbox(metadata),
        inbox=_inbox(metadata),
        dead_letters=_dead_letters(metadata),
        idempotency=_idempotency(metadata),
    )


def _outbox(metadata: MetaData) -> Table:
    """Events written in a transaction, for the relay to publish after it commits."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("correlation_id", String(100), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        # The W3C traceparent of the transaction that wrote the row (owkernel.tracing), so the
        # relay's publish span is its child; None while tracing is off.
        Column("traceparent", String(100), nullable=True),
    )
    # The relay only ever reads unsent rows, oldest first: a partial index keeps that cheap
    # however many sent rows wait for clean-up.
    Index(
        "ix_outbox_unsent",
        outbox.c.id,
        postgresql_where=outbox.c.sent_at.is_(None),
        sqlite_where=outbox.c.sent_at.is_(None),
    )
    Index("ix_outbox_sent_at", outbox.c.sent_at)
    return outbox


def _inbox(metadata: MetaData) -> Table:
    """Events a consumer handled, so a redelivery changes nothing."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )


def _dead_letters(metadata: MetaData) -> Table:
    """Events a consumer gave up on, kept to be looked at and replayed."""
    return Table(
        "dead_letters",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("consumer", String(120), nullable=False),
        Column("event_id", String(64), nullable=True),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("consumer", "event_id"),
    )


def _idempotency(metadata: MetaData) -> Table:
    """The answers to creates sent with an Idempotency-Key, replayed for the same key."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("owner", String(120), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
