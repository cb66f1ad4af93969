"""Every query of applications and tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Insert, Integer, Select, Table, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.approval.clocks.models import Clock
from services.approval.tasks.models import Application, ApplicationFacts, DeferredMaterial, Task, TaskFacts

# The statements of every application's routing and decision are built once: building one and
# its cache key per call costs more CPU than running it. Values travel as bound parameters.
_APPLICATIONS = cast(Table, Application.__table__)
_TASKS = cast(Table, Task.__table__)
# The INSERT of a new application, per dialect (ON CONFLICT is each dialect's own construct).
_ADD_APPLICATION: dict[str, Insert] = {}
# The application of a task, locked. The task's row is read in a sub-select, which FOR UPDATE
# does not lock: only the application's row is locked, and it stands for its tasks too (a task
# changes only under its application's lock). On the tables: a decision reads the rows and
# writes them by statement, so loading objects (most of the read's CPU) buys nothing.
_LOCK_APPLICATION_OF_TASK = (
    select(_APPLICATIONS)
    .where(
        _APPLICATIONS.c.application_no
        == select(_TASKS.c.application_no).where(_TASKS.c.task_id == bindparam("task_id")).scalar_subquery()
    )
    .with_for_update()
)
_WRITE_APPLICATION = update(_APPLICATIONS).where(_APPLICATIONS.c.application_no == bindparam("b_application_no"))
_WRITE_TASK = update(_TASKS).where(_TASKS.c.task_id == bindparam("b_task_id"))
_TASKS_OF = select(_TASKS).where(_TASKS.c.application_no == bindparam("application_no")).order_by(_TASKS.c.department)


async def get_application(session: AsyncSession, application_no: str, *, lock: bool = False) -> Application | None:
    """One application; ``lock`` holds its row until the transaction ends (decisions serialise on it)."""
    query = select(Application).where(Application.application_no == application_no)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def add_application_if_new(session: AsyncSession, *, application_no: str, values: dict[str, Any]) -> bool:
    """Insert an application unless one with its number exists; True if it was inserted."""
    dialect = session.get_bind().dialect.name
    stmt = _ADD_APPLICATION.get(dialect)
    if stmt is None:
        stmt = (
            conflict_insert(session, _APPLICATIONS)
            .on_conflict_do_nothing(index_elements=[_APPLICATIONS.c.application_no])
            .returning(_APPLICATIONS.c.application_no)
        )
        _ADD_APPLICATION[dialect] = stmt
    return (await session.execute(stmt, {"application_no": application_no, **values})).scalar_one_or_none() is not None


async def add_tasks(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert new tasks (as their columns) in one statement, without the unit of work."""
    if rows:
        await session.execute(insert(_TASKS), rows)


async def write_application(session: AsyncSession, application_no: str, values: dict[str, Any]) -> None:
    """Change an application's row by statement, without the unit of work (a decision reads it
    as a row, never as an object of the session)."""
    await session.execute(_WRITE_APPLICATION, {"b_application_no": application_no, **values})


async def write_task(session: AsyncSession, task_id: str, values: dict[str, Any]) -> None:
    """Change a task's row by statement, without the unit of work (as ``write_application``)."""
    await session.execute(_WRITE_TASK, {"b_task_id": task_id, **values})


async def lock_application_of_task(session: AsyncSession, task_id: str) -> ApplicationFacts | None:
    """The row of a task's application, locked until the transaction ends (decisions serialise on it)."""
    row: Any = (await session.execute(_LOCK_APPLICATION_OF_TASK, {"task_id": task_id})).one_or_none()
    return cast("ApplicationFacts | None", row)


async def tasks_of(session: AsyncSession, application_no: str) -> list[TaskFacts]:
    """The rows of every task of an application, by department (read as they are now)."""
    rows: list[Any] = list((await session.execute(_TASKS_OF, {"application_no": application_no})).all())
    return rows


async def task_with_clock(session: AsyncSession, task_id: str) -> tuple[Task, Clock, Application] | None:
    """A task, its clock and its application."""
    query = (
        select(Task, Clock, Application)
        .join(Clock, Clock.clock_id == Task.clock_id)
        .join(Application, Application.application_no == Task.application_no)
        .where(Task.task_id == task_id)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2])


class ListedTask(Protocol):
    """A row of the task list: the task's columns, its clock's and its application's that the
    list shows (as a Core row carries them, no objects loaded)."""

    task_id: str
    application_no: str
    department: str
    stage: int | None
    status: str
    lead: bool
    clock_id: str
    opinion: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    due_date: date
    card_level: int
    started_on: date
    provisional: bool
    clock_status: str
    item_code: str
    item_name: str
    applicant_name: str
    project_no: str | None
    application_status: str
    hall: str


_CLOCKS = cast(Table, Clock.__table__)
# The task list's columns, read from the tables: a Core row per task instead of three objects
# loaded by the ORM (the poll's rows cost more CPU to load as objects than to fetch).
_LISTED_COLUMNS = (
    _TASKS.c.task_id,
    _TASKS.c.application_no,
    _TASKS.c.department,
    _TASKS.c.stage,
    _TASKS.c.status,
    _TASKS.c.lead,
    _TASKS.c.clock_id,
    _TASKS.c.opinion,
    _TASKS.c.decided_by,
    _TASKS.c.decided_at,
    _TASKS.c.created_at,
    _CLOCKS.c.due_date,
    _CLOCKS.c.card_level,
    _CLOCKS.c.started_on,
    _CLOCKS.c.provisional,
    _CLOCKS.c.status.label("clock_status"),
    _APPLICATIONS.c.item_code,
    _APPLICATIONS.c.item_name,
    _APPLICATIONS.c.applicant_name,
    _APPLICATIONS.c.project_no,
    _APPLICATIONS.c.status.label("application_status"),
    _APPLICATIONS.c.hall,
)

# The task list (the approvers' poll, several times a second) has one statement per set of
# filters given, built on first use: building it and its cache key per call cost more CPU than
# running it. The filters' values, the cursor's and the limit are bound parameters.
_Listing = Select[*tuple[Any, ...]]
_LIST_TASKS: dict[tuple[bool, str | None, bool, bool, bool], _Listing] = {}


def _list_tasks_statement(
    *, department: bool, status: str | None, application_no: bool, hall: bool, after: bool
) -> _Listing:
    kind = None if status is None else ("decided" if status == "decided" else "one")
    key = (department, kind, application_no, hall, after)
    cached = _LIST_TASKS.get(key)
    if cached is not None:
        return cached
    tasks = _TASKS.c
    query: _Listing = (
        select(*_LISTED_COLUMNS)
        .select_from(_TASKS)
        .join(_CLOCKS, _CLOCKS.c.clock_id == tasks.clock_id)
        .join(_APPLICATIONS, _APPLICATIONS.c.application_no == tasks.application_no)
    )
    if department:
        query = query.where(tasks.department == bindparam("department"))
    if kind == "decided":
        query = query.where(tasks.status.in_(("approved", "rejected")))
    elif kind == "one":
        query = query.where(tasks.status == bindparam("status"))
    if application_no:
        query = query.where(tasks.application_no == bindparam("application_no"))
    if hall:
        query = query.where(_APPLICATIONS.c.hall == bindparam("hall"))
    if after:
        created = bindparam("after_created", type_=tasks.created_at.type)
        task_id = bindparam("after_task_id", type_=tasks.task_id.type)
        query = query.where(or_(tasks.created_at > created, and_(tasks.created_at == created, tasks.task_id > task_id)))
    query = query.order_by(tasks.created_at, tasks.task_id).limit(bindparam("limit", type_=Integer()))
    _LIST_TASKS[key] = query
    return query


async def list_tasks(
    session: AsyncSession,
    *,
    department: str | None,
    status: str | None,
    application_no: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
    hall: str | None = None,
) -> Sequence[ListedTask]:
    """Tasks oldest first (the order they must be worked), with their clocks' and applications' columns."""
    query = _list_tasks_statement(
        department=department is not None,
        status=status,
        application_no=application_no is not None,
        hall=hall is not None,
        after=after is not None,
    )
    params: dict[str, Any] = {
        "department": department,
        "status": status,
        "application_no": application_no,
        "hall": hall,
        "limit": limit,
    }
    if after is not None:
        params["after_created"], params["after_task_id"] = after
    rows: Sequence[Any] = (await session.execute(query, params)).all()
    return rows


async def open_tasks_by_department(session: AsyncSession) -> list[tuple[str, int, int, int]]:
    """Per department: open tasks, how many of them carry a yellow and a red card."""
    query = (
        select(
            Task.department,
            func.count(),
            func.coalesce(func.sum(case((Clock.card_level == 1, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Clock.card_level == 2, 1), else_=0)), 0),
        )
        .join(Clock, Clock.clock_id == Task.clock_id)
        .where(Task.status == "open")
        .group_by(Task.department)
        .order_by(Task.department)
    )
    return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in (await session.execute(query)).all()]


async def most_urgent_open(session: AsyncSession, department: str, *, limit: int) -> list[tuple[Task, Clock]]:
    """A department's open tasks nearest their due date."""
    query = (
        select(Task, Clock)
        .join(Clock, Clock.clock_id == Task.clock_id)
        .where(Task.department == department, Task.status == "open")
        .order_by(Clock.due_date, Task.task_id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in (await session.execute(query)).all()]


async def deferred_of(session: AsyncSession, application_no: str) -> list[DeferredMaterial]:
    """The application's deferred materials (容缺), by code."""
    query = select(DeferredMaterial).where(DeferredMaterial.application_no == application_no)
    return list((await session.execute(query.order_by(DeferredMaterial.code))).scalars())
