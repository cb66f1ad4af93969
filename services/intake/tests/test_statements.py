"""Statement budgets of the four requests every application makes of intake (issue 22): created,
a material uploaded, submitted, accepted. A change that adds a round trip (a read of what is held
already, a read before a write) shows here as a number. PostgreSQL adds its advisory locks (the
applicant's limits, a stored file), which SQLite's one write lock makes unneeded."""

from __future__ import annotations

from sqlalchemy import update

from owtest import resident_id
from services.intake.catalog.models import CatalogItem
from services.intake.tests.harness import Hall


async def test_an_application_costs_its_budget(hall: Hall) -> None:
    # One material, as the platform bench's item: no missing material gets a row at acceptance.
    await hall.add_item(materials=[{"code": "M1", "name": "申请表", "critical": True}])
    locks = 1 if hall.kernel.db.engine.dialect.name == "postgresql" else 0
    me = hall.citizen(resident_id())
    await hall.apply(me)  # the first application under the item's version reads its row
    # The drafts' count with the item's current version (held: the item's row is not read), the
    # number, the application, its department, its first timeline entry.
    with hall.statements() as counted:
        no = (await hall.apply(me))["application_no"]
    assert len(counted.sql) == 5 + locks, counted.sql
    # The application touched (one UPDATE ... RETURNING), the material's row with the quota's sum,
    # the material written.
    with hall.statements() as counted:
        assert (await hall.upload(me, no, "M1")).status_code == 201
    assert len(counted.sql) == 3 + 2 * locks, counted.sql
    # The application moved, its materials and timeline for the answer, the event, the entry.
    with hall.statements() as counted:
        assert (await hall.client.post(f"/api/v1/applications/{no}/submit", headers=me)).status_code == 200
    assert len(counted.sql) == 5, counted.sql
    with hall.statements() as counted:
        assert (await hall.accept(no)).status_code == 200
    assert len(counted.sql) == 5, counted.sql


async def test_an_item_version_made_elsewhere_is_seen(hall: Hall) -> None:
    await hall.add_item()
    me = hall.citizen(resident_id())
    assert (await hall.apply(me))["item"]["committed_days"] == 5
    # A change this replica did not make (another replica's): its state holds version 1 still.
    async with hall.kernel.db.transaction() as session:
        await session.execute(
            update(CatalogItem)
            .where(CatalogItem.code == "T-001")
            .values(version=CatalogItem.version + 1, committed_days=3)
        )
    second = await hall.apply(me)
    assert second["item_version"] == 2 and second["item"]["committed_days"] == 3
    async with hall.kernel.db.transaction() as session:
        await session.execute(
            update(CatalogItem)
            .where(CatalogItem.code == "T-001")
            .values(version=CatalogItem.version + 1, status="cancelled")
        )
    r = await hall.client.post("/api/v1/applications", json={"item_code": "T-001"}, headers=me)
    assert r.status_code == 409, "a cancelled version takes no application, whatever was held"
