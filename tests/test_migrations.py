"""Each component's migration tree: one head, and the models match the migrations exactly."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from owkernel.migrations import heads, upgrade
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


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
async def test_models_match_migrations(component: Component, tmp_path: Path) -> None:
    import asyncio

    url = fresh_database_url(f"mig_{component.name}", tmp_path)
    await asyncio.to_thread(upgrade, component.ini, url)
    metadata = metadata_of(component)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    assert diffs == [], f"{component.name}: models and migrations differ (run make migration): {diffs}"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_tree_holds_only_its_own_tables(component: Component) -> None:
    """No table name is declared by two components (each service has its own database)."""
    mine = set(metadata_of(component).tables)
    kernel = {"outbox", "inbox", "dead_letters", "idempotency_keys"}
    for other in COMPONENTS:
        if other.name != component.name:
            shared = (mine & set(metadata_of(other).tables)) - kernel
            assert not shared, f"{component.name} and {other.name} both declare {shared}"
