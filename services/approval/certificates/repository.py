"""Every query of certificates."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.approval.certificates.models import Certificate


async def get(session: AsyncSession, certificate_no: str) -> Certificate | None:
    """One certificate by number."""
    return await session.get(Certificate, certificate_no)


async def by_application(session: AsyncSession, application_no: str) -> Certificate | None:
    """The certificate of an application, if issued."""
    query = select(Certificate).where(Certificate.application_no == application_no)
    return (await session.execute(query)).scalar_one_or_none()


_CERTIFICATES = cast(Table, Certificate.__table__)


async def add(session: AsyncSession, certificate: Certificate) -> None:
    """Insert a new certificate by statement, without the unit of work (the object stays out of
    the session; its attributes are named as the columns)."""
    await session.execute(
        insert(_CERTIFICATES), {column.name: getattr(certificate, column.name) for column in _CERTIFICATES.columns}
    )
