"""Every application query but the list's (``listing_repository``): one application, its
materials, departments, timeline and waits; counters, visits, per-applicant limits, stored files."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BindParameter,
    Subquery,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from owkernel.db import STAGED_ROWS, conflict_insert, stage_rows
from services.intake.applications.models import (
    Application,
    ApplicationDepartment,
    ApplicationFacts,
    ApplicationMaterial,
    FileRelease,
    MaterialFacts,
    Sequence,
    Suspension,
    TimelineEntry,
    TimelineFacts,
    Visit,
)
from services.intake.catalog.models import CatalogItem

_TIMELINE = cast(Table, TimelineEntry.__table__)
_APPLICATIONS = cast(Table, Application.__table__)
_SEQUENCES = cast(Table, Sequence.__table__)
# Rows written as they are (no object back) go in through the tables: Core, not the ORM's bulk path.
_DEPARTMENTS = cast(Table, ApplicationDepartment.__table__)
# The attribute of each column is named as the column is (the mapping renames none).
_UNSET_APPLICATION: dict[str, Any] = dict.fromkeys(c.key for c in _APPLICATIONS.c)
_INSERT_APPLICATION = insert(_APPLICATIONS).returning(_APPLICATIONS.c.id)
_MATERIAL_TABLE = cast(Table, ApplicationMaterial.__table__)
_UNSET_MATERIAL: dict[str, Any] = dict.fromkeys(c.key for c in _MATERIAL_TABLE.c)
_INSERT_MATERIAL = insert(_MATERIAL_TABLE).returning(_MATERIAL_TABLE.c.id)


async def next_sequence(session: AsyncSession, name: str) -> int:
    """The next value of a named counter (atomic: one upsert that returns the new value).

    Through the table: the ORM's INSERT (its bulk path) cost as much again as the statement (issue 22).
    """
    shape = ("next_sequence", session.get_bind().dialect.name)
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        ins = conflict_insert(session, _SEQUENCES).values(name=bindparam("name_"), value=1)
        upsert = ins.on_conflict_do_update(index_elements=[_SEQUENCES.c.name], set_={"value": _SEQUENCES.c.value + 1})
        stmt = _STATEMENTS[shape] = upsert.returning(_SEQUENCES.c.value)
    return int((await session.execute(stmt, {"name_": name})).scalar_one())


async def get_by_no(
    session: AsyncSession, no: str, *, for_update: bool = False, fresh: bool = False
) -> Application | None:
    """One application by its number (locked for the rest of the transaction when asked; ``fresh``:
    an object the session holds already is loaded again from the row, not returned as it is)."""
    stmt = select(Application).where(Application.application_no == no)
    if for_update:
        stmt = stmt.with_for_update()
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def change_by_no(
    session: AsyncSession, no: str, values: dict[str, Any], *, statuses: Seq[str] | None = None
) -> ApplicationFacts | None:
    """One application by its number, changed by ``values`` and so locked, when its status is one
    of ``statuses`` (any, when None): one statement (UPDATE ... RETURNING) where a step would
    read it with a lock and update it at the commit. None when no row was changed.

    The row comes back as it now is (every column, by name), through the table: a step only reads
    it, and the ORM's UPDATE (its bulk path, the object loaded with populate_existing) cost more
    than the statement (issue 22). When the session holds an object of the row, what it owes is
    flushed first (as autoflush did), and it is returned showing the row as it now is.
    """
    shape = ("change", tuple(values), None if statuses is None else tuple(statuses))
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        stmt = _APPLICATIONS.update().where(_APPLICATIONS.c.application_no == bindparam("no_"))
        if statuses is not None:
            stmt = stmt.where(_APPLICATIONS.c.status.in_(statuses))
        stmt = _STATEMENTS[shape] = stmt.values({name: _bound(name) for name in values}).returning(*_APPLICATIONS.c)
    sync = session.sync_session
    if sync.identity_map:
        await session.flush()
    row = (await session.execute(stmt, _params(no, values))).first()
    if row is None or not sync.identity_map:
        return cast(ApplicationFacts | None, row)
    held = sync.identity_map.get(identity_key(Application, row.id))
    if held is None:
        return cast(ApplicationFacts, row)
    # What populate_existing did: the object shows the row as the statement left it.
    for key, value in row._mapping.items():
        set_committed_value(held, key, value)
    return cast(ApplicationFacts, held)


async def id_by_no(session: AsyncSession, no: str) -> int | None:
    """The id of an application by its number: one column, no object (a timeline entry needs no more)."""
    stmt = select(Application.id).where(Application.application_no == no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_by_ids(session: AsyncSession, ids: Seq[int]) -> dict[int, Application]:
    """Applications by primary key."""
    if not ids:
        return {}
    rows = (await session.execute(select(Application).where(Application.id.in_(ids)))).scalars()
    return {row.id: row for row in rows}


async def insert_application(session: AsyncSession, values: dict[str, Any]) -> ApplicationFacts:
    """Write a new application's row from ``values`` (columns by name); the application as written.

    One INSERT ... RETURNING id through the table (no unit of work). What comes back is ``values``
    with that id and None for every column not given (as a new ``Application`` object showed
    them), a plain namespace: the request writes nothing more of it, and making a mapped object
    only to read it back cost as much as the INSERT's parameters (issue 22).
    """
    new_id = (await session.execute(_INSERT_APPLICATION, values)).scalar_one()
    return cast(ApplicationFacts, SimpleNamespace(**_UNSET_APPLICATION | values | {"id": new_id}))


async def insert_material(session: AsyncSession, values: dict[str, Any]) -> MaterialFacts:
    """Write a new material's row from ``values`` (columns by name); the material as written, a
    plain namespace as ``insert_application`` gives (one INSERT ... RETURNING id through the table)."""
    new_id = (await session.execute(_INSERT_MATERIAL, values)).scalar_one()
    return cast(MaterialFacts, SimpleNamespace(**_UNSET_MATERIAL | values | {"id": new_id}))


async def add_departments(session: AsyncSession, application_id: int, departments: Seq[str]) -> None:
    """Route an application to its departments."""
    await session.execute(
        insert(_DEPARTMENTS),
        [{"application_id": application_id, "department": d} for d in sorted(set(departments))],
    )


async def departments_of(session: AsyncSession, application_id: int, *, routed: Seq[str] | None = None) -> list[str]:
    """The departments an application is routed to, in name order.

    ``routed`` is what ``add_departments`` was given (the item snapshot's ``departments``): its
    rows are exactly those distinct names, so they are not read again wherever the order is
    certain too: a single name, or SQLite, whose BINARY collation is ``sorted``'s code-point
    order. PostgreSQL orders several names by the database's collation: those are read.
    """
    if routed is not None:
        names = sorted(set(routed))
        if len(names) <= 1 or session.get_bind().dialect.name == "sqlite":
            return names
    rows = await session.execute(
        select(ApplicationDepartment.department)
        .where(ApplicationDepartment.application_id == application_id)
        .order_by(ApplicationDepartment.department)
    )
    return list(rows.scalars())


async def materials_of(session: AsyncSession, application_id: int) -> list[MaterialFacts]:
    """Every material row of an application, in id order: rows read through the table, not loaded
    as objects (issue 22); ``held_material`` gives a step the object of one it changes. Where the
    session holds objects, what it owes is flushed first (as autoflush did) and an object it holds
    of a row is given instead of the row (as the ORM's SELECT did)."""
    sync = session.sync_session
    if sync.identity_map or sync.new:
        await session.flush()
    rows = cast(list[MaterialFacts], (await session.execute(_MATERIALS, {"id_": application_id})).all())
    if not sync.identity_map:
        return rows
    return [sync.identity_map.get(identity_key(ApplicationMaterial, row.id)) or row for row in rows]


def held_material(session: AsyncSession, row: MaterialFacts) -> ApplicationMaterial:
    """The object of a material row, for a step to change: the one the session holds, or one made
    from the row's values and put in the session without a SELECT (its changes are written as an
    UPDATE at the flush, as a loaded object's are)."""
    if isinstance(row, ApplicationMaterial):
        return row
    held = session.sync_session.identity_map.get(identity_key(ApplicationMaterial, row.id))
    if held is not None:
        return held
    material = ApplicationMaterial()
    for column in _MATERIAL_TABLE.c:
        set_committed_value(material, column.key, getattr(row, column.key))
    make_transient_to_detached(material)
    session.add(material)
    return material


async def get_material(session: AsyncSession, application_id: int, code: str) -> ApplicationMaterial | None:
    """One material row."""
    return (await session.execute(_MATERIAL, {"id_": application_id, "code_": code})).scalar_one_or_none()


async def timeline_of(session: AsyncSession, application_id: int) -> list[TimelineFacts]:
    """An application's steps in the order they happened: rows (what the view shows of each),
    read through the table, not loaded as objects (issue 22: a third of the read's cost)."""
    await _write_staged_timeline(session)
    return cast(list[TimelineFacts], (await session.execute(_TIMELINE_OF, {"id_": application_id})).all())


class StepTaken(NamedTuple):
    """A step recorded in this transaction, as ``timeline_of`` reads it back."""

    at: datetime
    event: str
    detail: dict[str, Any]


async def add_timeline(
    session: AsyncSession, application_id: int, *, at: datetime, event: str, detail: dict[str, Any]
) -> TimelineFacts:
    """Record one step; what the view shows of it is returned (no object: its id is not known
    yet, and a TimelineEntry made only to read three values back cost more than a tuple, issue 22).

    The row is staged, like the outbox's: a transaction's entries go in with one statement before
    the commit (or before a SAVEPOINT, or before ``timeline_of`` reads), in the order they were
    recorded, where each added ORM object costs an INSERT of its own on SQLite (no sentinel
    to match RETURNING rows to objects). Inside a SAVEPOINT the row goes in at once.
    """
    row = {"application_id": application_id, "at": at, "event": event, "detail": detail}
    if not await stage_rows(session, _TIMELINE, [row]):
        await session.execute(insert(_TIMELINE), [row])
    return StepTaken(at, event, detail)


async def add_timeline_by_no(
    session: AsyncSession, no: str, *, at: datetime, event: str, detail: dict[str, Any]
) -> bool:
    """Record one step of the application numbered ``no``; False (nothing written) when there is none.

    One statement (INSERT ... SELECT) where reading the id first and inserting after would be two:
    a step another service made needs nothing else of the row. Entries staged before it go in
    first, so the timeline keeps the order the steps were recorded in.
    """
    await _write_staged_timeline(session)
    params = {"no_": no, "at_": at, "event_": event, "detail_": detail}
    inserted = await session.execute(_TIMELINE_BY_NO, params)
    return bool(inserted.rowcount)  # type: ignore[attr-defined]


async def update_by_no(
    session: AsyncSession, no: str, values: dict[str, Any], *, unless_set: str | None = None
) -> tuple[int, str | None] | None:
    """Change the application numbered ``no`` (only while its column ``unless_set`` is NULL, when
    named) with one UPDATE, no SELECT first; its (id, project_no), or None when no row changed."""
    shape = ("update", tuple(values), unless_set)
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        stmt = _update_by_no({name: _bound(name) for name in values})
        if unless_set is not None:
            stmt = stmt.where(_APPLICATIONS.c[unless_set].is_(None))
        _STATEMENTS[shape] = stmt
    return await _updated(session, stmt, _params(no, values))


async def set_deadline_if_unset(session: AsyncSession, no: str, deadline: date) -> None:
    """Give the application numbered ``no`` a deadline when it has none yet (one UPDATE)."""
    await update_by_no(session, no, {"deadline": deadline}, unless_set="deadline")


async def advance_by_no(
    session: AsyncSession,
    no: str,
    *,
    status: str,
    moves_from: Seq[str],
    stamps: dict[str, Any],
    values: dict[str, Any],
    refused_in: Seq[str],
) -> tuple[int, str | None] | None:
    """Move the application numbered ``no`` to ``status`` (writing ``stamps`` with it) when it is in
    ``moves_from``, and write ``values`` whatever its status, unless it is in ``refused_in``: one
    UPDATE, no SELECT first. Its (id, project_no), or None when it is unknown or refused."""
    shape = ("advance", status, tuple(moves_from), tuple(stamps), tuple(values), tuple(refused_in))
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        # SQL reads the row's own columns in SET as they were before the change.
        moves = _APPLICATIONS.c.status.in_(moves_from)
        changes: dict[str, Any] = {"status": case((moves, status), else_=_APPLICATIONS.c.status)}
        changes |= {name: case((moves, _bound(name)), else_=_APPLICATIONS.c[name]) for name in stamps}
        changes |= {name: _bound(name) for name in values}
        stmt = _STATEMENTS[shape] = _update_by_no(changes).where(_APPLICATIONS.c.status.not_in(refused_in))
    return await _updated(session, stmt, _params(no, stamps | values))


# Statements of this module that run for every application, built once (per shape where they
# vary: which columns they set, under which statuses) and bound to each call's values. Building a
# statement cost as much CPU as running it, an UPSERT or a join with its IN list several times more
# (issue 22). The parameters are named ``<name>_``: never a column's name, which an UPDATE or an
# INSERT would take as a value to set.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}

_MATERIALS = (
    select(_MATERIAL_TABLE).where(_MATERIAL_TABLE.c.application_id == bindparam("id_")).order_by(_MATERIAL_TABLE.c.id)
)
_MATERIAL = select(ApplicationMaterial).where(
    ApplicationMaterial.application_id == bindparam("id_"), ApplicationMaterial.code == bindparam("code_")
)
_TIMELINE_OF = (
    select(_TIMELINE.c.at, _TIMELINE.c.event, _TIMELINE.c.detail)
    .where(_TIMELINE.c.application_id == bindparam("id_"))
    .order_by(_TIMELINE.c.at, _TIMELINE.c.id)
)
# Through the tables, not the mapped classes: the ORM's SELECT of two counts cost more (issue 22).
_DRAFTS = select(func.count()).where(
    _APPLICATIONS.c.applicant_id_number == bindparam("id_number_"), _APPLICATIONS.c.status == "draft"
)
# The drafts' count with the current version of the item asked for (None: no such item), so the
# draft's item comes from the service's copy of that version without a read of its row.
_CATALOG_ITEMS = cast(Table, CatalogItem.__table__)
_DRAFTS_AND_ITEM_VERSION = _DRAFTS.add_columns(
    select(_CATALOG_ITEMS.c.version).where(_CATALOG_ITEMS.c.code == bindparam("code_")).scalar_subquery()
)

_TIMELINE_BY_NO = insert(_TIMELINE).from_select(
    ["application_id", "at", "event", "detail"],
    select(
        _APPLICATIONS.c.id,
        bindparam("at_", type_=_TIMELINE.c.at.type),
        bindparam("event_", type_=_TIMELINE.c.event.type),
        bindparam("detail_", type_=_TIMELINE.c.detail.type),
    ).where(_APPLICATIONS.c.application_no == bindparam("no_")),
)


def _bound(column: str) -> BindParameter[Any]:
    """The parameter a statement above sets ``column`` from (``<column>_``, never a column's name)."""
    return bindparam(f"{column}_", type_=_APPLICATIONS.c[column].type)


def _params(no: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"no_": no} | {f"{name}_": value for name, value in values.items()}


def _update_by_no(changes: dict[str, Any]) -> Update:
    return (
        update(_APPLICATIONS)
        .where(_APPLICATIONS.c.application_no == bindparam("no_"))
        .values(changes)
        .returning(_APPLICATIONS.c.id, _APPLICATIONS.c.project_no)
    )


async def _updated(session: AsyncSession, stmt: Update, params: dict[str, Any]) -> tuple[int, str | None] | None:
    """Run an UPDATE of one application; its (id, project_no), or None when no row changed.

    What objects the session holds still owe the database is flushed first (autoflush), and an
    object of the changed row is loaded again after, so it never shows what the row no longer has.
    """
    row = (await session.execute(stmt, params)).first()
    if row is None:
        return None
    held = session.sync_session.identity_map.get(identity_key(Application, row.id))
    if held is not None:
        await session.refresh(held)
    return row.id, row.project_no


async def _write_staged_timeline(session: AsyncSession) -> None:
    staged = session.sync_session.info.get(STAGED_ROWS)
    rows = staged.pop(_TIMELINE, None) if staged else None
    if rows:
        await session.execute(insert(_TIMELINE), rows)


async def get_suspension(session: AsyncSession, application_id: int, key: str) -> Suspension | None:
    """The wait of an application under ``key``, if it ever started."""
    stmt = select(Suspension).where(Suspension.application_id == application_id, Suspension.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def waiting_overdue(session: AsyncSession, *, today: date, limit: int) -> list[ApplicationMaterial]:
    """Deferred materials still missing after their due date and not yet reported overdue."""
    stmt = (
        select(ApplicationMaterial)
        .where(
            ApplicationMaterial.is_deferred.is_(True),
            ApplicationMaterial.supplied_at.is_(None),
            ApplicationMaterial.overdue_at.is_(None),
            ApplicationMaterial.due_date < today,
        )
        .order_by(ApplicationMaterial.due_date, ApplicationMaterial.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


def add_visit(
    session: AsyncSession,
    *,
    id_number: str,
    kind: str,
    window: str | None,
    application_no: str | None,
    item_code: str | None,
    at: datetime,
    day: date,
) -> None:
    """Record a trip the applicant made."""
    session.add(
        Visit(
            id_number=id_number,
            kind=kind,
            window=window,
            application_no=application_no,
            item_code=item_code,
            at=at,
            day=day,
        )
    )


async def known_applicant(session: AsyncSession, id_number: str) -> Application | None:
    """The applicant's latest application (to fill in a name the clerk did not type again)."""
    stmt = (
        select(Application).where(Application.applicant_id_number == id_number).order_by(Application.id.desc()).limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True)
class TripRow:
    """Declared and actual trips of one item's applications."""

    item_code: str
    item_name: str
    declared: int
    applications: int
    total: int
    most: int
    over: int


async def trips_by_item(session: AsyncSession) -> list[TripRow]:
    """Per item: applications accepted on, trips made (distinct days with a visit), over-declared."""
    per_app = _trips_per_application()
    stmt = (
        select(
            per_app.c.item_code,
            func.max(per_app.c.declared),
            func.count(),
            func.sum(per_app.c.made),
            func.max(per_app.c.made),
            func.sum(case((per_app.c.made > per_app.c.declared, 1), else_=0)),
        )
        .group_by(per_app.c.item_code)
        .order_by(per_app.c.item_code)
    )
    rows = (await session.execute(stmt)).all()
    names = await _item_names(session, [r[0] for r in rows])
    return [
        TripRow(
            item_code=r[0],
            item_name=names.get(r[0]) or r[0],
            declared=int(r[1]),
            applications=int(r[2]),
            total=int(r[3] or 0),
            most=int(r[4] or 0),
            over=int(r[5] or 0),
        )
        for r in rows
    ]


def _trips_per_application() -> Subquery:
    """Each application accepted on: its item, the trips its item declares, and the trips made."""
    trips = (
        select(Visit.application_no, func.count(func.distinct(Visit.day)).label("trips"))
        .where(Visit.application_no.is_not(None))
        .group_by(Visit.application_no)
        .subquery()
    )
    made = func.coalesce(trips.c.trips, 0)
    return (
        select(
            Application.item_code.label("item_code"),
            Application.item_trips.label("declared"),
            made.label("made"),
        )
        .outerjoin(trips, trips.c.application_no == Application.application_no)
        .where(Application.status.in_(("accepted", "approved", "rejected", "completed")))
        .subquery()
    )


async def _item_names(session: AsyncSession, codes: list[str]) -> dict[str, str]:
    """The name the applications give each item code."""
    stmt = (
        select(Application.item_code, func.max(Application.item_name))
        .where(Application.item_code.in_(codes))
        .group_by(Application.item_code)
    )
    return {code: name for code, name in (await session.execute(stmt)).all()}


async def mark_overdue(session: AsyncSession, material_id: int, at: datetime) -> None:
    """Note that a deferred material was reported overdue."""
    await session.execute(
        update(ApplicationMaterial).where(ApplicationMaterial.id == material_id).values(overdue_at=at)
    )


# --- per-applicant limits and stored files (issue 17, hole 4) -----------------------------------

# Classes of PostgreSQL advisory locks (the two-key form: class, key), so one applicant's and one
# file's locks never meet by accident.
_APPLICANT_LOCK = 0x1A7A0001
_FILE_LOCK = 0x1A7A0002


def _lock_key(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big", signed=True)


async def _advisory_lock(session: AsyncSession, lock_class: int, value: str) -> None:
    # SQLite needs nothing: every transaction there starts with BEGIN IMMEDIATE and holds the
    # database's one write lock until it ends, so the caller's count-then-write is atomic anyway.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(lock_class, _lock_key(value))))


async def lock_applicant(session: AsyncSession, id_number: str) -> None:
    """Hold one applicant's limits (drafts, stored bytes, appointments) until the transaction ends.

    Two requests of the same applicant would otherwise both count what is there before either
    commits, and both pass a limit they only pass together.
    """
    await _advisory_lock(session, _APPLICANT_LOCK, id_number)


async def lock_file(session: AsyncSession, sha256: str) -> None:
    """Hold one stored file until the transaction ends: taken before a material starts to refer to
    it (and before the file is written) and before it is checked for deletion, so a file is never
    deleted while a transaction is about to refer to it."""
    await _advisory_lock(session, _FILE_LOCK, sha256)


async def count_drafts_and_item_version(session: AsyncSession, id_number: str, code: str) -> tuple[int, int | None]:
    """How many drafts the applicant keeps open, and the current version of item ``code`` (None: unknown)."""
    drafts, version = (await session.execute(_DRAFTS_AND_ITEM_VERSION, {"id_number_": id_number, "code_": code})).one()
    return int(drafts), version


async def material_and_stored_bytes(
    session: AsyncSession, application_id: int, code: str, *, id_number: str, statuses: Seq[str]
) -> tuple[ApplicationMaterial | None, int]:
    """Material ``code`` of an application (None: no row yet) and the size of the applicant's
    material files on applications in ``statuses`` without that material's (it is being replaced):
    one statement where an upload read the row and then the sum.

    Through the tables, the material's object made from its row only when there is one (the
    upload replaces its file): loading it through the ORM cost more than the statement (issue 22).
    """
    shape = ("material_and_stored_bytes", tuple(statuses))
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        # Aliases: the sum's tables must not correlate with the material's row outside it.
        other, other_app = _MATERIAL_TABLE.alias(), _APPLICATIONS.alias()
        used = (
            select(func.coalesce(func.sum(other.c.size), 0))
            .join(other_app, other_app.c.id == other.c.application_id)
            .where(
                other_app.c.applicant_id_number == bindparam("id_number_"),
                other_app.c.status.in_(statuses),
                other.c.sha256.is_not(None),
                ~and_(other.c.application_id == bindparam("id_"), other.c.code == bindparam("code_")),
            )
            .scalar_subquery()
        )
        # From the application itself, so the one row comes back when the material has none.
        stmt = _STATEMENTS[shape] = (
            select(*_MATERIAL_TABLE.c, used.label("used_bytes_"))
            .select_from(_APPLICATIONS)
            .outerjoin(
                _MATERIAL_TABLE,
                and_(
                    _MATERIAL_TABLE.c.application_id == _APPLICATIONS.c.id,
                    _MATERIAL_TABLE.c.code == bindparam("code_"),
                ),
            )
            .where(_APPLICATIONS.c.id == bindparam("id_"))
        )
    sync = session.sync_session
    if sync.identity_map or sync.new:
        await session.flush()
    row = (await session.execute(stmt, {"id_": application_id, "code_": code, "id_number_": id_number})).one()
    material = None if row.id is None else held_material(session, cast(MaterialFacts, row))
    return material, int(row.used_bytes_ or 0)


async def release_files(session: AsyncSession, sha256s: Seq[str], *, at: datetime) -> None:
    """Record that this transaction stops referring to these files (the release job deletes them)."""
    if sha256s:
        await session.execute(insert(FileRelease), [{"sha256": sha, "released_at": at} for sha in sha256s])


async def pending_releases(session: AsyncSession, *, limit: int) -> list[FileRelease]:
    """The oldest releases not yet handled (another replica's are skipped, not waited for)."""
    stmt = select(FileRelease).order_by(FileRelease.id).limit(limit).with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())


async def delete_releases(session: AsyncSession, ids: Seq[int]) -> None:
    """Forget handled releases."""
    await session.execute(delete(FileRelease).where(FileRelease.id.in_(ids)))


async def referenced(session: AsyncSession, sha256s: Seq[str]) -> set[str]:
    """Which of these files some material (of any application) still refers to."""
    if not sha256s:
        return set()
    stmt = select(ApplicationMaterial.sha256).where(ApplicationMaterial.sha256.in_(sha256s)).distinct()
    return {sha for sha in (await session.execute(stmt)).scalars() if sha is not None}


async def delete_application(session: AsyncSession, application_id: int) -> None:
    """Delete an application; its materials, departments, waits and timeline go with it (CASCADE)."""
    await session.execute(delete(Application).where(Application.id == application_id))
