"""Department routes: the list (anyone) and the registry (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

from owkernel.app import SessionDep
from owkernel.pagination import CursorParam, LimitParam, Page, decode_text_cursor, page_of
from owkernel.roles import Admin
from services.intake.departments import repository, service
from services.intake.departments.schemas import DepartmentIn, DepartmentNames, DepartmentOut

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])


@router.get("")
async def list_departments(
    session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[DepartmentOut]:
    """Every department by code, with its names (the console names the codes items and tasks carry)."""
    rows = await repository.page(session, after=decode_text_cursor(cursor), limit=limit + 1)
    return page_of(rows, limit, key=lambda d: [d.code], item=service.out)


@router.post("", status_code=201, responses={409: {"description": "a department with this code exists"}})
async def create_department(body: DepartmentIn, session: SessionDep, principal: Admin) -> DepartmentOut:
    """Register a department; 409 on a code taken."""
    return service.out(await service.create(session, principal=principal, data=body))


@router.put("/{code}", responses={404: {"description": "no such department"}})
async def rename_department(code: str, body: DepartmentNames, session: SessionDep, _: Admin) -> DepartmentOut:
    """Rename a department (its code stays: items and tasks carry it)."""
    return service.out(await service.rename(session, code=code, data=body))
