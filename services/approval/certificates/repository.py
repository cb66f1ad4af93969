"""Every query of certificates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.approval.certificates.models import Certificate


async def get(session: AsyncSession, certificate_no: str) -> Certificate | None:
    """One certificate by number."""
    return await session.get(Certificate, certificate_no)


async def by_application(session: AsyncSession, application_no: str) -> Certificate | None:
    """The certificate of an application, if issued."""
    query = select(Certificate).where(Certificate.application_no == application_no)
    return (await session.execute(query)).scalar_one_or_none()
