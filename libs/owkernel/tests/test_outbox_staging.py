"""Outbox rows are written with the commit, one INSERT per transaction, and savepoints still hold.

``Outbox.add`` stages its rows and ``Database`` writes them before the commit (or before a
savepoint begins). These tests pin what that must never change: a committed event is there, a
rolled-back one is not, a savepoint rolled back takes only what was added inside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from owkernel.contracts import decode
from owkernel.db import Database, stage_rows
from owkernel.outbox import Outbox
from owtest import fresh_database_url
from owtest.backbone import applications, create_schema, producer_md, producer_tables, submitted


class AbortedError(Exception):
    """Ends a block the way a failing handler would."""


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = Database(fresh_database_url("staging", tmp_path))
    await create_schema(database, producer_md)
    return database


async def outbox_numbers(db: Database) -> list[str]:
    """The application number of each outbox event, in outbox (publication) order."""
    outbox = producer_tables.outbox
    async with db.transaction() as session:
        payloads = (await session.execute(select(outbox.c.payload).order_by(outbox.c.id))).scalars().all()
    return [str(decode(payload)[0].data["application_no"]) for payload in payloads]


async def count_outbox(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(producer_tables.outbox))).scalar_one())


async def test_events_of_one_transaction_are_written_at_commit_in_order(db: Database) -> None:
    outbox = Outbox(producer_tables, source="intake")
    async with db.transaction() as session:
        for no in ("A1", "A2", "A3"):
            await session.execute(insert(applications).values(no=no))
            await outbox.add(session, submitted(no))
    assert await outbox_numbers(db) == ["A1", "A2", "A3"]
    await db.dispose()


async def test_rolled_back_transaction_leaves_no_event(db: Database) -> None:
    outbox = Outbox(producer_tables, source="intake")
    with pytest.raises(AbortedError):
        async with db.transaction() as session:
            await outbox.add(session, submitted("R1"))
            raise AbortedError
    # The next unit of work on the same pooled connection must not inherit the staged row.
    async with db.transaction() as session:
        await session.execute(insert(applications).values(no="R2"))
    assert await count_outbox(db) == 0
    await db.dispose()


async def test_savepoint_rollback_keeps_what_came_before_and_drops_what_was_inside(db: Database) -> None:
    outbox = Outbox(producer_tables, source="intake")
    async with db.transaction() as session:
        await outbox.add(session, submitted("S1"))  # staged, outside any savepoint
        with pytest.raises(AbortedError):
            async with session.begin_nested():
                await outbox.add(session, submitted("S2"))  # inside: written at once, rolled back
                raise AbortedError
        async with session.begin_nested():
            await outbox.add(session, submitted("S3"))  # inside, released: kept
        await outbox.add(session, submitted("S4"))  # staged again, after a savepoint came and went
        with pytest.raises(AbortedError):
            async with session.begin_nested():
                await outbox.add(session, submitted("S5"))
                raise AbortedError
        await outbox.add(session, submitted("S6"))
    assert await outbox_numbers(db) == ["S1", "S3", "S4", "S6"]
    await db.dispose()


async def test_a_commit_that_fails_rolls_back_frees_the_connection_and_runs_no_hook(db: Database) -> None:
    """A unit of work failing at its commit (here the staged rows, written then) leaves nothing,
    wakes no relay, and hands its one pooled SQLite connection back for the next one."""
    woken: list[bool] = []
    db.on_commit(lambda: woken.append(True))
    outbox = Outbox(producer_tables, source="intake")
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(insert(applications).values(no="C1"))
            await outbox.add(session, submitted("C1"))
            await stage_rows(session, applications, [{"no": "C1"}])  # the same key: fails at commit
    assert woken == []
    async with db.transaction() as session:
        await session.execute(insert(applications).values(no="C2"))
        async with session.begin_nested():  # a savepoint writes nothing left staged by the failure
            pass
    async with db.transaction() as session:
        kept = (await session.execute(select(applications.c.no))).scalars().all()
    assert kept == ["C2"]
    assert await count_outbox(db) == 0
    await db.dispose()
