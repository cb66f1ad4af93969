"""Who may do what to an application: read it, act on it, list which ones.

Every step starts here: ``load`` the application (404 when there is none), then ask whether the
caller may read it or act on it. The rules live in one place so a route, a step and the read side
never disagree about them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Forbidden, NotFound
from services.intake.applications import repository
from services.intake.applications.models import Application, ApplicationFacts
from services.intake.common import sees_everything
from services.intake.projects import repository as projects_repo
from services.intake.projects.models import Project


def agency_officer_of(project: Project | None, principal: Principal) -> bool:
    """Whether the caller is the agency officer (1+1+X) the project names."""
    return (
        project is not None
        and principal.is_staff
        and project.agency_officer is not None
        and project.agency_officer == principal.username
    )


async def _project_of(session: AsyncSession, app: ApplicationFacts) -> Project | None:
    if app.project_no is None:
        return None
    return await projects_repo.get_project(session, app.project_no)


async def ensure_can_read(session: AsyncSession, principal: Principal, app: ApplicationFacts) -> None:
    """Its applicant, the clerks and overseers, the departments it is routed to, its agency officer."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is not None and principal.id_number == app.applicant_id_number:
            return
        raise Forbidden("This application belongs to someone else.", code="application_of_someone_else")
    if sees_everything(principal):
        return
    if (
        principal.has_role("approver")
        and principal.department
        and principal.department in await repository.departments_of(session, app.id)
    ):
        return
    if agency_officer_of(await _project_of(session, app), principal):
        return
    raise Forbidden("This application is not routed to you.", code="application_not_routed_to_you")


async def ensure_can_act(session: AsyncSession, principal: Principal, app: ApplicationFacts) -> bool:
    """The applicant, a window clerk or the project's agency officer; True when staff act for them."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is not None and principal.id_number == app.applicant_id_number:
            return False
        raise Forbidden("This application belongs to someone else.", code="application_of_someone_else")
    if principal.has_role("clerk"):
        return True
    if agency_officer_of(await _project_of(session, app), principal):
        return True
    raise Forbidden(
        "Only the applicant, a window clerk or the project's agency officer may do this.",
        code="applicant_clerk_or_agent_only",
    )


def list_scope(principal: Principal, *, applicant: str | None, department: str | None) -> tuple[str | None, str | None]:
    """The (applicant, department) a caller's list is narrowed to, from the filters they asked for.

    An applicant lists their own; clerks and overseers list everything; department staff list
    what is routed to their department.
    """
    if principal.kind in ("person", "enterprise"):
        if applicant not in (None, principal.id_number):
            raise Forbidden("An applicant lists only their own applications.")
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        return principal.id_number, department
    if sees_everything(principal):
        return applicant, department
    if not (principal.has_role("approver") and principal.department):
        raise Forbidden("This list is for applicants, window clerks, supervisors and department staff.")
    if department not in (None, principal.department):
        raise Forbidden("Department staff see what is routed to their own department.")
    return applicant, principal.department


async def load(session: AsyncSession, no: str, *, for_update: bool = False) -> Application:
    """An application by number, or 404."""
    app = await repository.get_by_no(session, no, for_update=for_update)
    if app is None:
        raise NotFound(f"No application {no}.", code="application_not_found", application_no=no)
    return app


async def load_changing(session: AsyncSession, no: str, *, at: datetime) -> ApplicationFacts:
    """An application a step is about to change, locked, its ``updated_at`` already ``at`` (or 404).

    One statement instead of a locking read and an UPDATE at the commit; a step that then refuses
    (403, 409) rolls the change back with everything else.
    """
    app = await repository.change_by_no(session, no, {"updated_at": at})
    if app is None:
        raise NotFound(f"No application {no}.", code="application_not_found", application_no=no)
    return app
