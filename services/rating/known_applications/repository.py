"""Every query on rating's copy of applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from owkernel.db import upsert as upsert_row
from services.rating.known_applications.models import Application

# The handlers' statements run for every application: each is built once (per dialect and set of
# columns) and given its values as bound parameters, since building a statement and its cache
# key per event cost more CPU than running it.
_TABLE = cast(Table, Application.__table__)
_SET_DECISION = (
    update(_TABLE).where(_TABLE.c.application_no == bindparam("b_application_no")).returning(_TABLE.c.application_no)
)


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
    await upsert_row(
        session, _TABLE, {"application_no": application_no, **values}, key="application_no", refresh=tuple(values)
    )


async def set_decision(
    session: AsyncSession, application_no: str, *, decision: str, decided_at: datetime, rejected_by: str | None
) -> bool:
    """Record an application's decision; False when the application is not known."""
    values = {"decision": decision, "decided_at": decided_at, "rejected_by": rejected_by}
    result = await session.execute(_SET_DECISION, {"b_application_no": application_no, **values})
    # An Application already in the session (none is, on the consumer paths) gets the new values
    # in Python, as an ORM-enabled UPDATE would give them, with no extra statement.
    loaded = session.identity_map.get(session.identity_key(Application, application_no))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)
    return result.scalar_one_or_none() is not None
