"""Two gateway replicas starting at the same moment on one database (a rollout, the scale run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.db import import_models
from gateway.identity.models import Account
from gateway.identity.passwords import Passwords
from gateway.jobs import bootstrap_admin
from gateway.settings import GatewaySettings
from gateway.tests.harness import GATEWAY_INI
from owkernel.db import Database, is_sqlite
from owkernel.migrations import upgrade
from owtest import fresh_database_url


async def test_two_replicas_bootstrapping_the_admin_at_once_both_start(tmp_path: Path) -> None:
    import_models()
    url = fresh_database_url("adminrace", tmp_path)
    if is_sqlite(url):
        pytest.skip("embedded mode (SQLite) runs one gateway; replicas share a database only on PostgreSQL")
    await asyncio.to_thread(upgrade, GATEWAY_INI, url)
    settings = GatewaySettings(database_url=url, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
    first, second = Database(url), Database(url)
    try:
        # Both read "no admin yet" before either commits; the loser's INSERT meets the unique login.
        results = await asyncio.gather(
            *(
                bootstrap_admin(db, username="racer", password="a-password-1", passwords=Passwords(settings))
                for db in (first, second)
            )
        )
        assert results == [None, None]  # a password was given: nothing generated
        async with first.transaction() as session:
            admins = await session.scalar(select(func.count()).select_from(Account).where(Account.login == "racer"))
        assert admins == 1
    finally:
        await first.dispose()
        await second.dispose()
