"""Alembic support shared by every service's migration tree.

Each service has its own ``alembic.ini`` and ``migrations/`` folder; its ``env.py`` is three lines
that call ``run_env`` with that service's metadata and database URL, so autogenerate only ever
compares one service's models with one service's database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from owkernel.db import configure_sqlite, is_sqlite
from owkernel.sqlite_inline import inline_url


def _do_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, metadata: MetaData) -> None:
    if is_sqlite(url):
        engine = create_async_engine(inline_url(url), poolclass=pool.NullPool)
        configure_sqlite(engine)
    else:
        engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_do_run, metadata)
    await engine.dispose()


def run_env(*, metadata: MetaData, default_url: str) -> None:
    """Body of a service's ``env.py``: run migrations online (or render SQL offline)."""
    url = context.config.get_main_option("sqlalchemy.url") or default_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata))


def alembic_config(ini_path: Path, url: str | None = None) -> Config:
    """An Alembic config for a service's tree, optionally pointed at another database."""
    cfg = Config(str(ini_path))
    cfg.set_main_option("script_location", str(ini_path.parent / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(ini_path: Path, url: str | None = None) -> None:
    """Apply every migration of one tree (call outside a running event loop)."""
    command.upgrade(alembic_config(ini_path, url), "head")


def heads(ini_path: Path) -> list[str]:
    """The head revisions of one tree (a healthy tree has exactly one)."""
    return list(ScriptDirectory.from_config(alembic_config(ini_path)).get_heads())
