"""SQLite for the async engine without a thread hop per call (embedded mode only).

aiosqlite runs every DBAPI call on a worker thread and hands the result back through a future:
about four hops per statement, 0.2 ms each, most of it CPU spent waking threads. That put a
one-insert transaction at 1.4 ms (1.2 ms of CPU) against 0.3 ms when the same calls run on the
event loop's own thread, and it capped the backbone at ~350 events/s (measured with
``tools/bench/backbone.py``; figures in the README).

So the embedded engine runs the standard library's ``sqlite3`` inline. This is sound here
because of how the kernel uses SQLite, not in general:

- one connection per process (``pool_size=1``), so a waiting caller waits in the pool's asyncio
  queue, never inside SQLite;
- WAL with ``synchronous=NORMAL``: a commit appends to the log without an fsync, so statements
  take microseconds and there is no disk wait to hide from the loop;
- each service owns its file, so another process holds the write lock only briefly (a migration
  before start, a test's read); the busy timeout bounds that wait, and the loop sleeps in it.

A query that scans a large table would block the loop while it runs; the services keyset-paginate
every list, and production runs PostgreSQL on asyncpg, which this does not touch.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.util.concurrency import await_, in_greenlet

DRIVER = "owkernel"


async def _completed() -> None:
    """An awaitable that finishes at once (it never reaches the event loop)."""


def _as_async_call() -> None:
    # AsyncConnection.execute insists that an async driver awaited something (a guard against
    # plugging in a sync driver by mistake); a finished coroutine satisfies it for ~1 µs.
    if in_greenlet():
        await_(_completed())


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        super().execute(sql, parameters)
        _as_async_call()
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> _Cursor:
        super().executemany(sql, seq_of_parameters)
        _as_async_call()
        return self

    async def _async_soft_close(self) -> None:
        """Called by the async result wrapper on async drivers; rows are read inline anyway."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class SQLiteDialectInline(SQLiteDialect_pysqlite):
    """The pysqlite dialect, declared async so ``create_async_engine`` accepts it.

    Under ``AsyncEngine`` every call already runs inside a greenlet on the loop thread; a
    synchronous DBAPI call there simply completes, which is the point.
    """

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        """The asyncio-aware queue pool, so a caller waiting for the one connection awaits."""
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        """Open the connection; the pool may close it from its finaliser on another thread."""
        cparams["check_same_thread"] = False
        cparams["factory"] = _Connection
        return super().connect(*cargs, **cparams)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialectInline")


def inline_url(url: str | URL) -> URL:
    """The same SQLite database on the inline driver (``sqlite+aiosqlite`` and ``sqlite`` alike)."""
    parsed = make_url(url)
    return parsed.set(drivername=f"sqlite+{DRIVER}")
