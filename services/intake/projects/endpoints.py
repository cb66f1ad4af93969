"""Project routes: register a project, read its stages, name a key project's agency officer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.app import SessionDep
from owkernel.auth import VerifiedPrincipal
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor, next_cursor_of
from services.intake.db import tables
from services.intake.deps import SettingsDep
from services.intake.projects import presenter, repository, service
from services.intake.projects.models import Project
from services.intake.projects.schemas import AgencyIn, ProjectCreate, ProjectOut

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])
idempotency = Idempotency(tables)


@router.post("", status_code=201, response_model=ProjectOut)
async def create_project(
    body: ProjectCreate,
    request: Request,
    session: SessionDep,
    principal: VerifiedPrincipal,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> object:
    """A project with its four stages (items from the catalog)."""
    fingerprint = request_hash("POST /api/v1/projects", body.model_dump_json())
    replay = await idempotency.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    project = await service.create_project(session, settings=settings, principal=principal, data=body)
    result = await _out(session, project)
    await idempotency.remember(
        session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=201, body=result
    )
    return result


@router.get("/{project_no}")
async def get_project(project_no: str, session: SessionDep, principal: VerifiedPrincipal) -> ProjectOut:
    """Each stage, its deadline and the working days it used."""
    project = await service.load(session, project_no)
    service.ensure_can_read(principal, project)
    return await _out(session, project)


@router.put("/{project_no}/agency")
async def set_agency(project_no: str, body: AgencyIn, session: SessionDep, principal: VerifiedPrincipal) -> ProjectOut:
    """Name the agency officer of a key project (1+1+X)."""
    project = await service.set_agency(session, principal=principal, project_no=project_no, data=body)
    return await _out(session, project)


@router.get("")
async def list_projects(
    session: SessionDep, principal: VerifiedPrincipal, limit: LimitParam = 20, cursor: CursorParam = None
) -> Page[ProjectOut]:
    """Newest first: an applicant's own; every project for staff."""
    owner, officer = service.list_scope(principal)
    before = decode_id_cursor(cursor)
    rows = await repository.list_projects(session, owner=owner, officer=officer, before_id=before, limit=limit + 1)
    items = [await _out(session, p) for p in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor_of(rows, limit, key=lambda p: [p.id]))


async def _out(session: AsyncSession, project: Project) -> ProjectOut:
    """The project's API shape, its stages read."""
    return presenter.project_out(project, await service.stages(session, project))
