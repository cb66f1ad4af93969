"""The application list's query: a keyset page of summary lines, filtered and searched."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import RowMapping, Select, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.applications.models import Application, ApplicationDepartment

# The tables themselves, not the mapped classes: a list reads plain rows, and a statement of table
# columns is not run through the ORM (no ORM compile step, no ORM result loading: issue 22).
_APPLICATIONS = cast(Table, Application.__table__)
_ROUTED = cast(Table, ApplicationDepartment.__table__)
applications = _APPLICATIONS.c
routes = _ROUTED.c

# The columns a list line (ApplicationSummary) reads.
SUMMARY_COLUMNS = (
    applications.id,
    applications.application_no,
    applications.status,
    applications.item_code,
    applications.item_name,
    applications.item_version,
    applications.window,
    applications.hall,
    applications.department,
    applications.applicant_id_number,
    applications.applicant_kind,
    applications.applicant_name,
    applications.applicant_phone,
    applications.applicant_subject_id,
    applications.project_no,
    applications.stage,
    applications.deadline,
    applications.fee_fen,
    applications.payment_status,
    applications.created_at,
    applications.submitted_at,
    applications.accepted_at,
    applications.decided_at,
    applications.completed_at,
)

Summaries = Select[*tuple[Any, ...]]


async def list_applications(
    session: AsyncSession,
    *,
    applicant: str | None,
    department: str | None,
    status: str | None,
    item_code: str | None,
    window: str | None,
    project_no: str | None,
    before_id: int | None,
    limit: int,
    hall: str | None = None,
    search: str | None = None,
) -> list[RowMapping]:
    """A page of list lines (``SUMMARY_COLUMNS``), newest first, below the cursor's id: a keyset
    seek, never OFFSET. Plain rows, no ORM objects and no JSON: a page costs the same at any depth
    and little CPU."""
    stmt = select(*SUMMARY_COLUMNS).order_by(applications.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(applications.id < before_id)
    if department is not None:
        only_department = (applicant, status, item_code, window, project_no, hall, search) == (None,) * 7
        stmt = _routed_to(stmt, department, before_id=before_id, limit=limit, only=only_department)
    equal = (
        (applications.applicant_id_number, applicant),
        (applications.status, status),
        (applications.item_code, item_code),
        (applications.window, window),
        (applications.project_no, project_no),
        (applications.hall, hall),
    )
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    if search:
        stmt = _searched(stmt, search)
    return list((await session.execute(stmt)).mappings())


def _routed_to(stmt: Summaries, department: str, *, before_id: int | None, limit: int, only: bool) -> Summaries:
    """Narrow the list to what is routed to ``department`` (``only``: no other filter is asked for)."""
    routed = select(routes.application_id).where(routes.department == department)
    if before_id is not None:
        routed = routed.where(routes.application_id < before_id)
    if only:
        # Only the department: take the page's ids from its own index first, then those rows.
        routed = routed.order_by(routes.application_id.desc()).limit(limit)
        return stmt.where(applications.id.in_(routed.scalar_subquery()))
    stmt = stmt.join(_ROUTED, routes.application_id == applications.id).where(routes.department == department)
    if before_id is not None:
        # Both sides bounded, so a merge join starts at the cursor on both indexes.
        stmt = stmt.where(routes.application_id < before_id)
    return stmt


def _searched(stmt: Summaries, search: str) -> Summaries:
    """The window's search box: a number is matched whole (either kind), a name by any part."""
    return stmt.where(
        or_(
            applications.application_no.in_({search, search.upper()}),
            applications.applicant_id_number.in_({search, search.upper()}),
            applications.applicant_name.contains(search, autoescape=True),
        )
    )
