"""Rules of departments: one per code, named in Chinese and English."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.errors import Conflict, NotFound
from owkernel.kernel import clock_of
from services.intake.departments import repository
from services.intake.departments.models import Department
from services.intake.departments.schemas import DepartmentIn, DepartmentNames, DepartmentOut


def out(department: Department) -> DepartmentOut:
    """The API shape of a department."""
    return DepartmentOut(code=department.code, name=department.name_zh, name_en=department.name_en)


async def create(session: AsyncSession, *, principal: Principal, data: DepartmentIn) -> Department:
    """Register a department (409 when the code is taken)."""
    if await repository.get(session, data.code) is not None:
        raise Conflict(f"A department with the code {data.code} exists already.", code="department_exists")
    department = Department(
        code=data.code,
        name_zh=data.name,
        name_en=data.name_en,
        created_by=principal.display,
        created_at=clock_of(session).now(),
    )
    repository.add(session, department)
    # Flushed here so a concurrent create of the same code fails in this request (409 by the kernel's
    # integrity mapping), not at the commit.
    await session.flush()
    return department


async def rename(session: AsyncSession, *, code: str, data: DepartmentNames) -> Department:
    """Give a department new names (404 when there is none with ``code``); items keep the code."""
    department = await repository.get(session, code)
    if department is None:
        raise NotFound(f"There is no department {code}.")
    department.name_zh = data.name
    department.name_en = data.name_en
    return department
