"""Project rules: four stages in order, each from the catalog; key projects may have an agency officer."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.intake.applications import repository as applications_repo
from services.intake.catalog import repository as catalog_repo
from services.intake.common import applicant_kind, local_today, sees_everything, utcnow
from services.intake.projects import repository
from services.intake.projects.models import Project, ProjectStage
from services.intake.projects.schemas import AgencyIn, AgencyOut, OwnerOut, ProjectCreate, ProjectOut, StageOut
from services.intake.settings import IntakeSettings

STAGES = (1, 2, 3, 4)


def _can_name_agency(principal: Principal) -> bool:
    return principal.is_staff and principal.has_role("clerk", "admin")


async def create_project(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, data: ProjectCreate
) -> Project:
    """A project with its four stages, each tied to the catalog's item for that stage."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        if data.applicant_id_number not in (None, principal.id_number):
            raise Forbidden("An applicant registers projects for themselves.")
        kind: Literal["person", "enterprise"] = "enterprise" if principal.kind == "enterprise" else "person"
        owner: str = principal.id_number
        owner_name = data.applicant_name or principal.name or ""
        subject: str | None = principal.subject_id
    elif principal.has_role("clerk"):
        if data.applicant_id_number is None:
            raise Unprocessable(
                "A clerk registers a project on behalf of someone: give applicant_id_number.",
                errors=[{"field": "body.applicant_id_number", "message": "required for a clerk"}],
            )
        kind = applicant_kind(data.applicant_id_number, data.applicant_kind, field="body.applicant_id_number")
        known = await applications_repo.known_applicant(session, data.applicant_id_number)
        owner = data.applicant_id_number
        owner_name = data.applicant_name or (known.applicant_name if known else "")
        subject = known.applicant_subject_id if known else None
    else:
        raise Forbidden("Projects are registered by their applicant or by a window clerk.")
    if data.agency is not None:
        if not data.key_project:
            raise Unprocessable(
                "Agency service (1+1+X) is for key projects.", errors=[{"field": "body.agency", "message": "key only"}]
            )
        if not _can_name_agency(principal):
            raise Forbidden("A window clerk or an administrator names the agency officer.")
    items = await catalog_repo.stage_items(session)
    missing = [s for s in STAGES if s not in items]
    if missing:
        raise Conflict(f"The catalog has no active item for stage(s) {', '.join(map(str, missing))}.")
    now = utcnow()
    seq = await applications_repo.next_sequence(session, f"project-{local_today(settings, now).year}")
    project = Project(
        project_no=f"PRJ-{local_today(settings, now).year}-{seq:06d}",
        name=data.name,
        investment_fen=data.investment_fen,
        key_project=data.key_project,
        owner_id_number=owner,
        owner_kind=kind,
        owner_name=owner_name,
        owner_subject_id=subject,
        agency_officer=data.agency.officer if data.agency else None,
        agency=data.agency.model_dump() if data.agency else None,
        created_by=principal.display,
        created_at=now,
    )
    session.add(project)
    await session.flush()
    for stage in STAGES:
        session.add(ProjectStage(project_id=project.id, stage=stage, item_code=items[stage].code))
    await session.flush()
    return project


def ensure_can_read(principal: Principal, project: Project) -> None:
    """Its owner, its agency officer, and staff."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number == project.owner_id_number:
            return
        raise Forbidden("This project belongs to someone else.")
    if principal.is_staff:
        return
    raise Forbidden("This project is not yours.")


async def load(session: AsyncSession, project_no: str, *, for_update: bool = False) -> Project:
    """A project or 404."""
    project = await repository.get_project(session, project_no, for_update=for_update)
    if project is None:
        raise NotFound(f"No project {project_no}.")
    return project


async def set_agency(session: AsyncSession, *, principal: Principal, project_no: str, data: AgencyIn) -> Project:
    """Name (or change) the agency officer of a key project."""
    if not _can_name_agency(principal):
        raise Forbidden("A window clerk or an administrator names the agency officer.")
    project = await load(session, project_no, for_update=True)
    if not project.key_project:
        raise Conflict("Agency service (1+1+X) is for key projects.")
    project.agency_officer = data.officer
    project.agency = data.model_dump()
    return project


async def project_out(session: AsyncSession, project: Project) -> ProjectOut:
    """The project with each stage's item, application, deadline and working days used."""
    stages = await repository.stages_of(session, project.id)
    items = await catalog_repo.get_items(session, [s.item_code for s in stages])
    apps = await applications_repo.get_by_ids(session, [s.application_id for s in stages if s.application_id])
    out: list[StageOut] = []
    for s in stages:
        app = apps.get(s.application_id) if s.application_id else None
        snapshot = app.item if app else None
        item = items.get(s.item_code)
        departments = (snapshot or {}).get("departments") or ((item.departments or [item.department]) if item else [])
        lead = (snapshot or {}).get("lead_department") or ((item.lead_department or item.department) if item else "")
        out.append(
            StageOut(
                stage=s.stage,
                item_code=s.item_code,
                item_name=app.item_name if app else (item.name if item else s.item_code),
                departments=list(departments),
                lead_department=lead,
                committed_days=(snapshot or {}).get("committed_days") or (item.committed_days if item else 0),
                status=app.status if app else "not_started",
                application_no=app.application_no if app else None,
                deadline=app.deadline if app else None,
                accepted_at=app.accepted_at if app else None,
                approved_at=s.approved_at,
                working_days_used=s.working_days_used,
            )
        )
    return ProjectOut(
        project_no=project.project_no,
        name=project.name,
        investment_fen=project.investment_fen,
        key_project=project.key_project,
        owner=OwnerOut(id_number=project.owner_id_number, kind=project.owner_kind, name=project.owner_name),
        agency=AgencyOut.model_validate(project.agency) if project.agency else None,
        committed_days=sum(st.committed_days for st in out),
        created_at=project.created_at,
        stages=out,
    )


def list_scope(principal: Principal) -> tuple[str | None, str | None]:
    """(owner, officer) filters for a caller's project list; (None, None) means all."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        return principal.id_number, None
    if sees_everything(principal) or principal.is_staff:
        return None, None
    raise Forbidden("Not yours to list.")
