"""The application list's query: a keyset page of summary lines, filtered and searched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.applications.models import Application, ApplicationDepartment

# The columns a list line (ApplicationSummary) reads.
SUMMARY_COLUMNS = (
    Application.id,
    Application.application_no,
    Application.status,
    Application.item_code,
    Application.item_name,
    Application.item_version,
    Application.window,
    Application.hall,
    Application.department,
    Application.applicant_id_number,
    Application.applicant_kind,
    Application.applicant_name,
    Application.applicant_phone,
    Application.applicant_subject_id,
    Application.project_no,
    Application.stage,
    Application.deadline,
    Application.fee_fen,
    Application.payment_status,
    Application.created_at,
    Application.submitted_at,
    Application.accepted_at,
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
    stmt = select(*SUMMARY_COLUMNS).order_by(Application.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(Application.id < before_id)
    if department is not None:
        only_department = (applicant, status, item_code, window, project_no, hall, search) == (None,) * 7
        stmt = _routed_to(stmt, department, before_id=before_id, limit=limit, only=only_department)
    equal = (
        (Application.applicant_id_number, applicant),
        (Application.status, status),
        (Application.item_code, item_code),
        (Application.window, window),
        (Application.project_no, project_no),
        (Application.hall, hall),
    )
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    if search:
        stmt = _searched(stmt, search)
    return list((await session.execute(stmt)).mappings())


def _routed_to(stmt: Summaries, department: str, *, before_id: int | None, limit: int, only: bool) -> Summaries:
    """Narrow the list to what is routed to ``department`` (``only``: no other filter is asked for)."""
    routed = select(ApplicationDepartment.application_id).where(ApplicationDepartment.department == department)
    if before_id is not None:
        routed = routed.where(ApplicationDepartment.application_id < before_id)
    if only:
        # Only the department: take the page's ids from its own index first, then those rows.
        routed = routed.order_by(ApplicationDepartment.application_id.desc()).limit(limit)
        return stmt.where(Application.id.in_(routed.scalar_subquery()))
    stmt = stmt.join(ApplicationDepartment, ApplicationDepartment.application_id == Application.id).where(
        ApplicationDepartment.department == department
    )
    if before_id is not None:
        # Both sides bounded, so a merge join starts at the cursor on both indexes.
        stmt = stmt.where(ApplicationDepartment.application_id < before_id)
    return stmt


def _searched(stmt: Summaries, search: str) -> Summaries:
    """The window's search box: a number is matched whole (either kind), a name by any part."""
    return stmt.where(
        or_(
            Application.application_no.in_({search, search.upper()}),
            Application.applicant_id_number.in_({search, search.upper()}),
            Application.applicant_name.contains(search, autoescape=True),
        )
    )
