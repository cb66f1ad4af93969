"""Two gateway replicas starting at the same moment on one database (a rollout, the scale run)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import func, select

from gateway.db import import_models
from gateway.identity.models import Account
from gateway.identity.passwords import Passwords
from gateway.jobs import bootstrap_admin
from gateway.settings import GatewaySettings
from gateway.tests.harness import GATEWAY_INI
from owkernel.db import Database
from owkernel.migrations import upgrade
from owtest import fresh_database_url


async def test_two_replicas_bootstrapping_the_admin_at_once_both_start(tmp_path: Path) -> None:
    import_models()
    url = fresh_database_url("adminrace", tmp_path)
    await asyncio.to_thread(upgrade, GATEWAY_INI, url)
    settings = GatewaySettings(database_url=url, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
    both_started = threading.Barrier(2)

    def replica() -> str | None:
        # Each replica in its own thread and event loop, as two processes would be: on PostgreSQL
        # both read "no admin yet" and the later INSERT meets the unique login; SQLite's
        # BEGIN IMMEDIATE makes the second wait for the first and then find the account.
        async def start() -> str | None:
            db = Database(url)
            try:
                both_started.wait(timeout=10)
                return await bootstrap_admin(
                    db, username="racer", password="a-password-1", passwords=Passwords(settings)
                )
            finally:
                await db.dispose()

        return asyncio.run(start())

    results = await asyncio.gather(asyncio.to_thread(replica), asyncio.to_thread(replica))
    assert list(results) == [None, None]  # a password was given: nothing generated, and neither failed
    db = Database(url)
    try:
        async with db.transaction() as session:
            admins = await session.scalar(select(func.count()).select_from(Account).where(Account.login == "racer"))
    finally:
        await db.dispose()
    assert admins == 1
