"""Async SQLAlchemy 2 for both SQLite (embedded) and PostgreSQL (production), one code path.

The caller that starts a unit of work owns it: a route dependency or a consumer wrapper opens
``Database.transaction()``; repositories and service functions receive the session and never
commit. Hooks registered with ``on_commit`` run after a successful commit (the outbox relay
uses one to wake up at once instead of waiting for its next poll).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Insert, MetaData, Table, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio.base import _run_to_completion
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

from owkernel.metrics import DB_COMMITS, DB_STATEMENTS
from owkernel.sqlite_inline import inline_url

# One naming convention everywhere, so Alembic sees stable constraint names on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware timestamp on both backends: stored in UTC, read back aware.

    PostgreSQL keeps the offset; SQLite keeps only the wall time, so without this a time written
    as 09:00+08:00 would come back as a naive 01:00. Naive datetimes are refused on the way in.
    Migrations see it as ``sa.DateTime(timezone=True)``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware datetimes only, stored as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: only timezone-aware times are stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """UTC, aware."""
        if value is None:
            return None
        result: datetime = value
        return result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)


def new_metadata() -> MetaData:
    """A MetaData with the platform's naming convention (one per service)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return url.startswith("sqlite")


def configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, busy timeout, and transactions SQLite can keep.

    The sqlite3 driver's own implicit BEGIN breaks SAVEPOINT and starts transactions lazily; we
    switch it off and emit ``BEGIN IMMEDIATE`` ourselves. IMMEDIATE takes the write lock up front,
    so two connections never deadlock upgrading a read snapshot (SQLITE_BUSY_SNAPSHOT, which the
    busy timeout cannot wait out); writes in one service are serialised anyway in SQLite.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: this runs for every transaction, and exec_driver_sql would build
        # a whole execution context for it each time.
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create the async engine for a URL (sqlite+aiosqlite or postgresql+asyncpg)."""
    if is_sqlite(url):
        # SQLite has one writer at a time. Several pooled connections would queue on the file lock
        # through the busy handler, which sleeps in steps of up to 100 ms; one connection makes
        # the pool's own queue the line, which wakes the next caller at once and never fails with
        # "database is locked". That one connection is also what lets sqlite3 run on the loop
        # thread (see sqlite_inline). Embedded mode only; PostgreSQL gets a real pool.
        engine = create_async_engine(inline_url(url), echo=echo, pool_size=1, max_overflow=0, pool_timeout=60)
        configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_timeout=30
    )


def count_statements(engine: AsyncEngine, service: str) -> None:
    """Count the statements and commits ``engine`` sends (a component's /metrics; `make bench`)."""
    statements = DB_STATEMENTS.labels(service)
    commits = DB_COMMITS.labels(service)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_statement(*_args: Any) -> None:
        statements.inc()

    @event.listens_for(engine.sync_engine, "commit")
    def _on_commit(_conn: Connection) -> None:
        commits.inc()


class Database:
    """The engine, the session factory and the commit hooks of one service."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False, service: str | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, echo=echo)
        self._commit_hooks: list[Callable[[], None]] = []
        if service is not None:
            count_statements(self.engine, service)

        class _Session(Session):
            pass

        @event.listens_for(_Session, "before_commit")
        def _before_commit(session: Session) -> None:
            staged = session.info.pop(STAGED_ROWS, None)
            if staged:
                write_staged_rows(session.execute, staged)

        @event.listens_for(self.engine.sync_engine, "savepoint")
        def _before_savepoint(conn: Connection, _name: str) -> None:
            # Fired before the SAVEPOINT statement: rows staged so far go in ahead of it, so
            # rolling the savepoint back can never take them along (inside a savepoint nothing is
            # staged: Outbox.add inserts at once there).
            staged = conn.info.get(STAGED_ROWS)
            if staged:
                write_staged_rows(conn.execute, staged)

        @event.listens_for(_Session, "after_commit")
        def _after_commit(session: Session) -> None:
            if session.info.pop(NOTIFY_COMMIT, False):
                for hook in self._commit_hooks:
                    hook()

        @event.listens_for(_Session, "after_rollback")
        def _after_rollback(session: Session) -> None:
            session.info.pop(NOTIFY_COMMIT, None)
            staged = session.info.pop(STAGED_ROWS, None)
            if staged:
                staged.clear()  # the connection may still point at it: leave nothing to write

        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=_Session)

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after each commit of a session that asked for it (``request_commit_hooks``)."""
        self._commit_hooks.append(hook)

    def transaction(self) -> UnitOfWork:
        """One unit of work: commit when the block ends normally, roll back on any exception."""
        return UnitOfWork(self.sessionmaker)

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


class UnitOfWork:
    """``Database.transaction()``: a session, begun; committed and closed when the block ends
    normally, rolled back and closed on any exception.

    What ``async with sessionmaker() as s, s.begin()`` does, for less: every request and every
    consumer batch pays this. The begin touches no connection, so it runs right here rather than
    in a greenlet of its own, and the commit and the close share one greenlet; ``async with``
    spent three, plus a task and a loop turn for its shielded close (~80 us CPU for a
    transaction that sends nothing). A class rather than a generator context manager: one layer
    less on every entry and exit. On any failure the old path is kept: roll back (the rollback
    hooks clear what was staged), then close shielded from cancellation.
    """

    __slots__ = ("_factory", "_session")

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        session = self._session = self._factory()
        session.sync_session.begin()
        return session

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        session = self._session
        assert session is not None, "a unit of work is left only after it is entered"
        self._session = None
        if exc_type is None:
            try:
                await greenlet_spawn(_commit_and_close, session.sync_session)
            except BaseException:
                await _abandon(session)
                raise
            # One turn of the loop, as the task of the shielded close gave: the commit handed
            # the connection back and may have woken the relay; whoever waits for it (SQLite has
            # one) takes it now, before this caller's next unit of work can take it first.
            await asyncio.sleep(0)
            return
        await _abandon(session)


def _commit_and_close(session: Session) -> None:
    """Commit, then close (in the one greenlet ``UnitOfWork`` runs them in)."""
    session.commit()
    session.close()


async def _abandon(session: AsyncSession) -> None:
    """Roll back, then close whatever happens, shielded from cancellation (a failed unit of work)."""
    try:
        await session.rollback()
    finally:
        await _run_to_completion(session.close())


def conflict_insert(session: AsyncSession, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say what to do ON CONFLICT, in the dialect the session is bound to.

    Core's portable ``insert`` has no ON CONFLICT; PostgreSQL and SQLite each have their own
    construct with the same ``on_conflict_do_nothing`` / ``on_conflict_do_update`` and
    ``excluded``, so the repositories write one statement and this picks the construct.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


_UPSERTS: dict[tuple[str, Table, str, tuple[str, ...], str | None], Any] = {}


async def upsert(
    session: AsyncSession,
    table: Table,
    row: dict[str, Any],
    *,
    key: str,
    refresh: Sequence[str],
    only_while_null: str | None = None,
) -> None:
    """Insert ``row``, or refresh the ``refresh`` columns of the row with the same ``key`` (from
    the values the INSERT was given); with ``only_while_null``, only while that column of the row
    is still NULL.

    One ``INSERT ... ON CONFLICT DO UPDATE`` instead of a locked read and a write (on PostgreSQL
    the conflicting row is locked as the read would have locked it). The statement is built once
    per dialect, table, key and set of refreshed columns and then only bound: a read copy's
    handlers run it for every event, and building it and its cache key cost more than running it.
    """
    dialect = session.get_bind().dialect.name
    cache_key = (dialect, table, key, tuple(refresh), only_while_null)
    stmt = _UPSERTS.get(cache_key)
    if stmt is None:
        ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        stmt = _UPSERTS[cache_key] = ins.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={column: ins.excluded[column] for column in refresh},
            where=None if only_while_null is None else table.c[only_while_null].is_(None),
        )
    await session.execute(stmt, row)


STAGED_ROWS = "owkernel.staged_rows"
NOTIFY_COMMIT = "notify_commit"
StagedRows = dict[Table, list[dict[str, Any]]]


async def stage_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> bool:
    """Queue rows to be inserted with one statement when the transaction commits.

    Returns False (and queues nothing) inside a savepoint: there the caller inserts at once, so
    the rows roll back with the savepoint. Outside one, a unit of work that adds many rows (a
    consumer batch whose handlers each emit an event) pays for one INSERT instead of one each.
    The same queue is reachable from the session (written before the commit) and from its
    connection (written before any SAVEPOINT), so rows keep their order and their transaction.
    """
    sync = session.sync_session
    if sync.in_nested_transaction():
        return False
    staged: StagedRows | None = sync.info.get(STAGED_ROWS)
    if staged is None:
        staged = sync.info[STAGED_ROWS] = {}
        connection = await session.connection()
        connection.sync_connection.info[STAGED_ROWS] = staged  # type: ignore[union-attr]
    staged.setdefault(table, []).extend(rows)
    return True


# One INSERT per staging table, built once: a fresh ``insert(table)`` on every commit paid its
# construction and cache key again (~7 us a table, several tables a unit of work).
_STAGED_INSERTS: dict[Table, Insert] = {}


def write_staged_rows(execute: Callable[..., Any], staged: StagedRows) -> None:
    """Insert what ``stage_rows`` queued, one statement per table, and empty the queue."""
    for table, rows in staged.items():
        statement = _STAGED_INSERTS.get(table)
        if statement is None:
            statement = _STAGED_INSERTS[table] = insert(table)
        execute(statement, rows)
    staged.clear()


def request_commit_hooks(session: AsyncSession) -> None:
    """Ask the database to run its commit hooks once this session commits."""
    session.sync_session.info[NOTIFY_COMMIT] = True
