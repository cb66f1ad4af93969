"""Project rules: four stages in order, each from the catalog; key projects may have an agency officer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from owkernel.kernel import clock_of
from services.intake.applications import repository as applications_repo
from services.intake.applications.models import Application
from services.intake.catalog import repository as catalog_repo
from services.intake.catalog.models import CatalogItem
from services.intake.common import applicant_kind, local_today, sees_everything
from services.intake.projects import repository
from services.intake.projects.models import Project, ProjectStage
from services.intake.projects.schemas import AgencyIn, ProjectCreate
from services.intake.settings import IntakeSettings

STAGES = (1, 2, 3, 4)


def _can_name_agency(principal: Principal) -> bool:
    return principal.is_staff and principal.has_role("clerk", "admin")


@dataclass(frozen=True)
class _Owner:
    """Whose project it is."""

    id_number: str
    kind: Literal["person", "enterprise"]
    name: str
    subject_id: str | None


async def create_project(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, data: ProjectCreate
) -> Project:
    """A project with its four stages, each tied to the catalog's item for that stage."""
    owner = await _owner_of(session, principal, data)
    if data.agency is not None:
        if not data.key_project:
            raise Unprocessable(
                "Agency service (1+1+X) is for key projects.",
                errors=[field_error("body.agency", "key only", "agency_key_projects_only")],
            )
        if not _can_name_agency(principal):
            raise Forbidden("A window clerk or an administrator names the agency officer.")
    items = await catalog_repo.stage_items(session)
    missing = [s for s in STAGES if s not in items]
    if missing:
        raise Conflict(f"The catalog has no active item for stage(s) {', '.join(map(str, missing))}.")
    now = clock_of(session).now()
    seq = await applications_repo.next_sequence(session, f"project-{local_today(settings, now).year}")
    project = Project(
        project_no=f"PRJ-{local_today(settings, now).year}-{seq:06d}",
        name=data.name,
        investment_fen=data.investment_fen,
        key_project=data.key_project,
        owner_id_number=owner.id_number,
        owner_kind=owner.kind,
        owner_name=owner.name,
        owner_subject_id=owner.subject_id,
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


async def _owner_of(session: AsyncSession, principal: Principal, data: ProjectCreate) -> _Owner:
    """An applicant registers a project for themselves; a clerk for the applicant they name."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        if data.applicant_id_number not in (None, principal.id_number):
            raise Forbidden("An applicant registers projects for themselves.")
        kind: Literal["person", "enterprise"] = "enterprise" if principal.kind == "enterprise" else "person"
        return _Owner(principal.id_number, kind, data.applicant_name or principal.name or "", principal.subject_id)
    if not principal.has_role("clerk"):
        raise Forbidden("Projects are registered by their applicant or by a window clerk.")
    if data.applicant_id_number is None:
        raise Unprocessable(
            "A clerk registers a project on behalf of someone: give applicant_id_number.",
            errors=[field_error("body.applicant_id_number", "required for a clerk", "applicant_id_number_required")],
        )
    kind = applicant_kind(data.applicant_id_number, data.applicant_kind, field="body.applicant_id_number")
    known = await applications_repo.known_applicant(session, data.applicant_id_number)
    return _Owner(
        data.applicant_id_number,
        kind,
        data.applicant_name or (known.applicant_name if known else ""),
        known.applicant_subject_id if known else None,
    )


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


@dataclass(frozen=True)
class StageState:
    """A stage with the catalog's item for it and the application made for it (if any)."""

    stage: ProjectStage
    item: CatalogItem | None
    app: Application | None


async def stages(session: AsyncSession, project: Project) -> list[StageState]:
    """Each stage of the project, in order, with its item and application."""
    rows = await repository.stages_of(session, project.id)
    items = await catalog_repo.get_items(session, [s.item_code for s in rows])
    apps = await applications_repo.get_by_ids(session, [s.application_id for s in rows if s.application_id])
    return [
        StageState(stage=s, item=items.get(s.item_code), app=apps.get(s.application_id) if s.application_id else None)
        for s in rows
    ]


def list_scope(principal: Principal) -> tuple[str | None, str | None]:
    """(owner, officer) filters for a caller's project list; (None, None) means all."""
    if principal.kind in ("person", "enterprise"):
        if principal.id_number is None:
            raise Forbidden("The token carries no identity number.")
        return principal.id_number, None
    if sees_everything(principal) or principal.is_staff:
        return None, None
    raise Forbidden("Not yours to list.")
