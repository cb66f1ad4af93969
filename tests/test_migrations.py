"""Each component's migration tree: one head, the models match the migrations exactly, and every
revision goes down and up again, on SQLite and on PostgreSQL (the one place for these checks;
a service's own tests keep only its data migrations)."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from owkernel.migrations import alembic_config, heads, upgrade
from owtest import fresh_database_url
from tools.stack import COMPONENTS, Component

DB_MODULES = {
    "gateway": "gateway.db",
    "intake": "services.intake.db",
    "approval": "services.approval.db",
    "delivery": "services.delivery.db",
    "rating": "services.rating.db",
}


def metadata_of(component: Component) -> MetaData:
    module: Any = importlib.import_module(DB_MODULES[component.name])
    module.import_models()
    metadata: MetaData = module.Base.metadata
    return metadata


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_one_head(component: Component) -> None:
    assert len(heads(component.ini)) == 1


async def differences(url: str, metadata: MetaData) -> list[Any]:
    """What autogenerate would write to bring the database at ``url`` to ``metadata``."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diffs: list[Any] = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    return diffs


async def table_names(url: str) -> set[str]:
    """The tables the database at ``url`` holds."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names)


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
async def test_models_match_migrations(component: Component, tmp_path: Path) -> None:
    url = fresh_database_url(f"mig_{component.name}", tmp_path)
    await asyncio.to_thread(upgrade, component.ini, url)
    diffs = await differences(url, metadata_of(component))
    assert diffs == [], f"{component.name}: models and migrations differ (run make migration): {diffs}"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
async def test_every_revision_goes_down_and_up_again(component: Component, tmp_path: Path) -> None:
    """Down to base leaves only alembic's own table; up again builds what the models say."""
    url = fresh_database_url(f"down_{component.name}", tmp_path)
    config = alembic_config(component.ini, url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.downgrade, config, "base")
    assert await table_names(url) <= {"alembic_version"}, f"{component.name}: a downgrade left tables behind"
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await differences(url, metadata_of(component)) == []


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_tree_holds_only_its_own_tables(component: Component) -> None:
    """No table name is declared by two components (each service has its own database)."""
    mine = set(metadata_of(component).tables)
    kernel = {"outbox", "inbox", "dead_letters", "idempotency_keys"}
    for other in COMPONENTS:
        if other.name != component.name:
            shared = (mine & set(metadata_of(other).tables)) - kernel
            assert not shared, f"{component.name} and {other.name} both declare {shared}"
