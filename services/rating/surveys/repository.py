"""Every query on survey imports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.surveys.models import SurveyImport


def add(session: AsyncSession, survey_import: SurveyImport) -> None:
    """Stage an import's report."""
    session.add(survey_import)


async def get(session: AsyncSession, import_id: str) -> SurveyImport | None:
    """One import."""
    return await session.get(SurveyImport, import_id)


async def page(session: AsyncSession, *, limit: int, after: tuple[datetime, str] | None) -> list[SurveyImport]:
    """Newest first."""
    query = select(SurveyImport)
    if after is not None:
        at, import_id = after
        query = query.where(
            or_(
                SurveyImport.imported_at < at,
                and_(SurveyImport.imported_at == at, SurveyImport.import_id < import_id),
            )
        )
    query = query.order_by(SurveyImport.imported_at.desc(), SurveyImport.import_id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
