"""Every query on rating's copy of applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.rating.known_applications.models import Application


async def get(session: AsyncSession, application_no: str) -> Application | None:
    """One application, or None when its acceptance has not arrived."""
    return await session.get(Application, application_no)


async def get_for_update(session: AsyncSession, application_no: str) -> Application | None:
    """One application, row-locked (PostgreSQL) for the rest of the transaction."""
    result = await session.execute(
        select(Application).where(Application.application_no == application_no).with_for_update()
    )
    return result.scalar_one_or_none()


async def upsert(session: AsyncSession, *, application_no: str, values: dict[str, Any]) -> None:
    """Insert an application, or overwrite ``values`` of the one already there (its decision is kept).

    One ``INSERT ... ON CONFLICT DO UPDATE`` instead of a locked read and a write; on PostgreSQL
    the conflicting row is locked just as the read locked it.
    """
    ins = conflict_insert(session, Application)
    stmt = ins.values(application_no=application_no, **values).on_conflict_do_update(
        index_elements=[Application.application_no], set_=values
    )
    await session.execute(stmt)


async def set_decision(
    session: AsyncSession, application_no: str, *, decision: str, decided_at: datetime, rejected_by: str | None
) -> bool:
    """Record an application's decision; False when the application is not known."""
    # ORM-enabled UPDATE with the default synchronisation: an Application already in the session
    # gets the new values in Python, with no extra statement.
    result = await session.execute(
        update(Application)
        .where(Application.application_no == application_no)
        .values(decision=decision, decided_at=decided_at, rejected_by=rejected_by)
        .returning(Application.application_no)
    )
    return result.scalar_one_or_none() is not None
