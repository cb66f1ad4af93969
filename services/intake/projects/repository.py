"""Every project query."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.projects.models import Project, ProjectStage


async def get_project(session: AsyncSession, project_no: str, *, for_update: bool = False) -> Project | None:
    """One project by number."""
    stmt = select(Project).where(Project.project_no == project_no)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def stages_of(session: AsyncSession, project_id: int) -> list[ProjectStage]:
    """A project's stages in order."""
    stmt = select(ProjectStage).where(ProjectStage.project_id == project_id).order_by(ProjectStage.stage)
    return list((await session.execute(stmt)).scalars())


async def get_stage(session: AsyncSession, project_id: int, stage: int) -> ProjectStage | None:
    """One stage of a project."""
    stmt = select(ProjectStage).where(ProjectStage.project_id == project_id, ProjectStage.stage == stage)
    return (await session.execute(stmt)).scalar_one_or_none()


async def stage_of_application(session: AsyncSession, application_id: int) -> ProjectStage | None:
    """The stage an application carries, if any."""
    stmt = select(ProjectStage).where(ProjectStage.application_id == application_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_projects(
    session: AsyncSession, *, owner: str | None, officer: str | None, before_id: int | None, limit: int
) -> list[Project]:
    """A page of projects, newest first; ``owner``/``officer`` restrict to what a caller may see."""
    stmt: Select[Project] = select(Project).order_by(Project.id.desc()).limit(limit)
    if owner is not None and officer is not None:
        stmt = stmt.where(or_(Project.owner_id_number == owner, Project.agency_officer == officer))
    elif owner is not None:
        stmt = stmt.where(Project.owner_id_number == owner)
    elif officer is not None:
        stmt = stmt.where(Project.agency_officer == officer)
    if before_id is not None:
        stmt = stmt.where(Project.id < before_id)
    return list((await session.execute(stmt)).scalars())
