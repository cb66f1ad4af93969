"""``repository.change_by_no`` and ``materials_of``: rows read (or changed and given back) through the
tables (issue 22), and the objects of those rows a session holds or a step changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table

from owtest import resident_id
from services.intake.applications import repository
from services.intake.applications.models import Application, ApplicationMaterial
from services.intake.tests.harness import Hall

COLUMNS = [c.key for c in cast(Table, Application.__table__).columns]


async def test_the_row_changed_reads_as_the_application_does(hall: Hall) -> None:
    await hall.add_item()
    no = (await hall.apply(hall.citizen(resident_id())))["application_no"]
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    async with hall.kernel.db.transaction() as session:
        row = await repository.change_by_no(session, no, {"updated_at": at}, statuses=("draft",))
        assert row is not None and row.updated_at == at
        assert not session.sync_session.identity_map, "nothing loaded as an object"
    async with hall.kernel.db.transaction() as session:
        assert await repository.change_by_no(session, no, {"updated_at": at}, statuses=("submitted",)) is None
        app = await repository.get_by_no(session, no)
        assert app is not None
        assert {c: getattr(row, c) for c in COLUMNS} == {c: getattr(app, c) for c in COLUMNS}


async def test_an_object_held_is_flushed_first_and_shows_the_change(hall: Hall) -> None:
    await hall.add_item()
    no = (await hall.apply(hall.citizen(resident_id())))["application_no"]
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    async with hall.kernel.db.transaction() as session:
        held = await repository.get_by_no(session, no)
        assert held is not None
        held.applicant_phone = "13900000000"
        changed = await repository.change_by_no(session, no, {"updated_at": at, "status": "submitted"})
        assert changed is held
        assert held.updated_at == at and held.status == "submitted" and held.applicant_phone == "13900000000"
        assert not session.sync_session.dirty, "the change is the row's, not one the object still owes"
    async with hall.kernel.db.transaction() as session:
        app = await repository.get_by_no(session, no)
        assert app is not None
        assert (app.status, app.updated_at, app.applicant_phone) == ("submitted", at, "13900000000")


async def test_a_material_row_read_becomes_the_object_that_changes_it(hall: Hall) -> None:
    await hall.add_item()
    me = hall.citizen(resident_id())
    no = (await hall.apply(me))["application_no"]
    assert (await hall.upload(me, no, "M1")).status_code == 201
    due = datetime(2026, 12, 24, tzinfo=UTC).date()
    async with hall.kernel.db.transaction() as session:
        app_id = await repository.id_by_no(session, no)
        assert app_id is not None
        [row] = await repository.materials_of(session, app_id)
        assert not isinstance(row, ApplicationMaterial), "read as a row"
        material = repository.held_material(session, row)
        assert repository.held_material(session, row) is material, "one object per row"
        material.is_deferred, material.due_date = True, due
        # Read again, the session's object stands for the row, as the ORM's SELECT gave it.
        assert await repository.materials_of(session, app_id) == [material]
    async with hall.kernel.db.transaction() as session:
        [again] = await repository.materials_of(session, app_id)
        assert (again.code, again.is_deferred, again.due_date, again.sha256) == ("M1", True, due, row.sha256)
