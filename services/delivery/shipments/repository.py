"""Every query of shipments and their history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from owkernel.db import STAGED_ROWS, stage_rows
from services.delivery.shipments.models import Shipment, ShipmentEvent

_EVENTS = cast(Table, ShipmentEvent.__table__)
_SHIPMENTS = cast(Table, Shipment.__table__)
# The attribute of each column is named as the column is (the mapping renames none).
_COLUMNS = frozenset(_SHIPMENTS.c.keys())
_INSERT_SHIPMENT = insert(_SHIPMENTS)


async def get(session: AsyncSession, shipment_id: str) -> Shipment | None:
    """One shipment."""
    return await session.get(Shipment, shipment_id)


async def get_for_update(session: AsyncSession, shipment_id: str) -> Shipment | None:
    """One shipment, locked for a status change (PostgreSQL; SQLite serialises writers anyway)."""
    return (
        await session.execute(select(Shipment).where(Shipment.id == shipment_id).with_for_update())
    ).scalar_one_or_none()


async def by_tracking(session: AsyncSession, *, carrier: str, tracking_no: str) -> Shipment | None:
    """The shipment a carrier's tracking number belongs to, locked for a status change."""
    return (
        await session.execute(
            select(Shipment).where(Shipment.carrier == carrier, Shipment.tracking_no == tracking_no).with_for_update()
        )
    ).scalar_one_or_none()


async def advance(
    session: AsyncSession, *, carrier: str, tracking_no: str, from_statuses: Sequence[str], values: dict[str, Any]
) -> Row[Any] | None:
    """Set ``values`` on a carrier's parcel if its status is one of ``from_statuses``: the shipment's
    row as it now is (every column, by name), or None (no such parcel, or in another status).

    One ``UPDATE ... RETURNING``: on PostgreSQL it locks the row as ``by_tracking`` does, and a
    concurrent report waits for it, then finds the status moved on. Through the table, not the
    mapped class: the caller only reads the row, and the ORM's statement and object loading cost
    more than the statement itself (issue 22).
    """
    key = (tuple(from_statuses), tuple(values))
    stmt = _ADVANCE.get(key)
    if stmt is None:
        stmt = _ADVANCE[key] = (
            update(_SHIPMENTS)
            .where(
                _SHIPMENTS.c.carrier == bindparam("where_carrier"),
                _SHIPMENTS.c.tracking_no == bindparam("where_tracking_no"),
                _SHIPMENTS.c.status.in_(from_statuses),
            )
            .values({column: bindparam(f"set_{column}") for column in values})
            .returning(*_SHIPMENTS.c)
        )
    params = {"where_carrier": carrier, "where_tracking_no": tracking_no} | {f"set_{k}": v for k, v in values.items()}
    return (await session.execute(stmt, params)).first()


# Every courier report runs ``advance``: its few shapes (one per status reported) are built once,
# not per report (building a statement and its cache key cost more than running it; issue 22).
_ADVANCE: dict[tuple[tuple[str, ...], tuple[str, ...]], Executable] = {}


async def insert_new(session: AsyncSession, shipment: Shipment) -> None:
    """Write a new shipment's row from an object the session does not hold.

    One INSERT through the table instead of the unit of work's flush (issue 22): nothing more of
    a new shipment is written in its transaction, so the object stays outside the session and
    shows what it was given. It is written at once, ahead of its staged history rows.
    """
    await session.execute(_INSERT_SHIPMENT, {key: value for key, value in vars(shipment).items() if key in _COLUMNS})


async def by_attempt(session: AsyncSession, *, application_no: str, direction: str, attempt: int) -> Shipment | None:
    """One attempt of an application's shipments in one direction."""
    return (
        await session.execute(
            select(Shipment).where(
                Shipment.application_no == application_no,
                Shipment.direction == direction,
                Shipment.attempt == attempt,
            )
        )
    ).scalar_one_or_none()


async def latest(session: AsyncSession, *, application_no: str, direction: str) -> Shipment | None:
    """The last attempt of an application's shipments in one direction."""
    return (
        await session.execute(
            select(Shipment)
            .where(Shipment.application_no == application_no, Shipment.direction == direction)
            .order_by(Shipment.attempt.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def max_attempt(session: AsyncSession, *, application_no: str, direction: str) -> int:
    """The highest attempt number so far (0 when none)."""
    value = await session.scalar(
        select(func.max(Shipment.attempt)).where(
            Shipment.application_no == application_no, Shipment.direction == direction
        )
    )
    return int(value or 0)


async def count_open(session: AsyncSession, *, application_no: str, direction: str, final: Sequence[str]) -> int:
    """How many of an application's shipments in one direction are not in a final status."""
    value = await session.scalar(
        select(func.count())
        .select_from(Shipment)
        .where(
            Shipment.application_no == application_no,
            Shipment.direction == direction,
            Shipment.status.not_in(final),
        )
    )
    return int(value or 0)


async def pending(session: AsyncSession, *, limit: int = 500) -> Sequence[Shipment]:
    """Shipments still waiting for an available partner, oldest first."""
    return (
        (
            await session.execute(
                select(Shipment)
                .where(Shipment.status == "pending")
                .order_by(Shipment.created_at, Shipment.id)
                .limit(limit)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )


async def page(
    session: AsyncSession,
    *,
    applicant_id_number: str | None,
    application_no: str | None,
    direction: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Shipment]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = select(Shipment)
    if applicant_id_number is not None:
        query = query.where(Shipment.applicant_id_number == applicant_id_number)
    if application_no is not None:
        query = query.where(Shipment.application_no == application_no)
    if direction is not None:
        query = query.where(Shipment.direction == direction)
    if status is not None:
        query = query.where(Shipment.status == status)
    if after is not None:
        query = query.where(tuple_(Shipment.created_at, Shipment.id) < tuple_(after[0], after[1]))
    query = query.order_by(Shipment.created_at.desc(), Shipment.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def add_event(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep one status report in a shipment's history.

    The row is staged, as the outbox's are: the transaction's reports go in with one INSERT before
    the commit (or before a SAVEPOINT, or before ``events_of`` reads), in the order they were
    made; an ORM object cost the unit of work a flush and an INSERT of its own (issue 22). Inside
    a SAVEPOINT the row goes in at once.
    """
    if not await stage_rows(session, _EVENTS, [row]):
        await session.execute(insert(ShipmentEvent), [row])


async def _write_staged_events(session: AsyncSession) -> None:
    staged = session.sync_session.info.get(STAGED_ROWS)
    rows = staged.pop(_EVENTS, None) if staged else None
    if rows:
        await session.execute(insert(ShipmentEvent), rows)


async def events_of(session: AsyncSession, shipment_ids: Sequence[str]) -> dict[str, list[ShipmentEvent]]:
    """The history of several shipments, oldest report first (this transaction's own included)."""
    out: dict[str, list[ShipmentEvent]] = {sid: [] for sid in shipment_ids}
    if not shipment_ids:
        return out
    await _write_staged_events(session)
    rows = (
        await session.execute(
            select(ShipmentEvent)
            .where(ShipmentEvent.shipment_id.in_(list(shipment_ids)))
            .order_by(ShipmentEvent.shipment_id, ShipmentEvent.id)
        )
    ).scalars()
    for row in rows:
        out[row.shipment_id].append(row)
    return out
