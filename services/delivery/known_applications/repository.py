"""Queries of delivery's application copies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import upsert
from services.delivery.known_applications.models import DeliveryApplication
from services.delivery.partners import repository as partners


async def get(session: AsyncSession, application_no: str, *, lock: bool = False) -> DeliveryApplication | None:
    """One application, or None before its accepted event arrived; ``lock`` holds its row (FOR UPDATE)
    until the transaction ends, so checks made for it are not raced by another request."""
    return await session.get(DeliveryApplication, application_no, with_for_update=lock)


async def issue_certificate(
    session: AsyncSession, application_no: str, *, certificate_no: str, issued_at: datetime
) -> Row[Any] | None:
    """Give an application its certificate if it has none yet; the application's row as it now is
    (every column, by name), or None when it is not here or already had one (the caller then reads
    it with ``get``).

    One ``UPDATE ... WHERE certificate_no IS NULL RETURNING`` instead of a read and a write: the
    first certificate, the common case, costs one statement and tells the caller no shipment can
    exist yet. On PostgreSQL the row stays locked to the end of the transaction, as after the write.
    Through the table, not the mapped class: the caller only reads the row, and loading an object
    cost more than the statement (issue 22). The same statement reads which carriers are marked
    unavailable and keeps that for the transaction: the certificate's booking, which comes next,
    then sends no SELECT of its own (``partners.unavailable_carriers``).
    """
    params = {"where_application_no": application_no, "set_certificate_no": certificate_no, "set_at": issued_at}
    row = (await session.execute(_ISSUE, params)).first()
    if row is not None:
        partners.keep_unavailable(session, row.unavailable_carriers)
    return row


_APPLICATIONS = cast(Table, DeliveryApplication.__table__)
# Built once (every certificate runs it): building a statement and its cache key cost more than
# running it (issue 22).
_ISSUE = (
    update(_APPLICATIONS)
    .where(
        _APPLICATIONS.c.application_no == bindparam("where_application_no"),
        _APPLICATIONS.c.certificate_no.is_(None),
    )
    .values(certificate_no=bindparam("set_certificate_no"), certificate_issued_at=bindparam("set_at"))
    .returning(*_APPLICATIONS.c, partners.UNAVAILABLE_LIST.label("unavailable_carriers"))
)


async def upsert_accepted(
    session: AsyncSession, *, application_no: str, values: dict[str, Any], created_at: datetime
) -> None:
    """Insert an accepted application, or refresh its copy while no certificate was issued.

    One ``INSERT ... ON CONFLICT DO UPDATE ... WHERE certificate_no IS NULL`` instead of a read
    and a write; on PostgreSQL the conflicting row is locked, as the read-then-write never did.
    """
    await upsert(
        session,
        _APPLICATIONS,
        {"application_no": application_no, "created_at": created_at, **values},
        key="application_no",
        refresh=tuple(values),
        only_while_null="certificate_no",
    )
