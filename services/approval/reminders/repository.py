"""Every query of reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import conflict_insert
from services.approval.reminders.models import Notification, NotificationAttempt

Q_PENDING = "staff_notifications.status = 'pending'"


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write notifications in one statement (Core insert: the ORM's bulk path costs more than the rows).

    A de-duplication key already there is skipped, not an error: every approval replica runs the
    digest check, and two of them at the digest hour would otherwise fail one transaction on the
    unique key and log a warning for a digest that was, correctly, written once.
    """
    if rows:
        stmt = conflict_insert(session, cast(Table, Notification.__table__)).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        await session.execute(stmt, rows)


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these de-duplication keys exist already."""
    if not keys:
        return set()
    query = select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))
    return set((await session.execute(query)).scalars())


async def claim_due(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Any]:
    """Take up to ``limit`` pending notifications whose time has come, leasing them until ``lease_until``
    (a dispatcher that dies mid-send leaves them to be retried after the lease)."""
    due = (
        select(Notification.id)
        .where(text(Q_PENDING), Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    stmt = (
        update(Notification)
        .where(Notification.id.in_(ids), Notification.status == "pending", Notification.next_attempt_at <= now)
        .values(next_attempt_at=lease_until, attempts=Notification.attempts + 1)
        .returning(
            Notification.id,
            Notification.dedupe_key,
            Notification.kind,
            Notification.department,
            Notification.payload,
            Notification.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).all())


async def record_attempt(session: AsyncSession, attempt: NotificationAttempt) -> None:
    """Keep one attempt."""
    session.add(attempt)
    await session.flush()


async def settle(session: AsyncSession, notification_id: int, **values: Any) -> None:
    """Update a notification after an attempt."""
    await session.execute(update(Notification).where(Notification.id == notification_id).values(**values))


async def listing(
    session: AsyncSession, *, status: str | None, department: str | None, after: tuple[datetime, int] | None, limit: int
) -> list[Notification]:
    """Notifications newest first."""
    query = select(Notification)
    if status:
        query = query.where(Notification.status == status)
    if department:
        query = query.where(Notification.department == department)
    if after is not None:
        created, nid = after
        query = query.where(
            or_(Notification.created_at < created, and_(Notification.created_at == created, Notification.id < nid))
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def attempts_of(session: AsyncSession, ids: list[int]) -> dict[int, list[NotificationAttempt]]:
    """The attempts of several notifications, oldest first."""
    if not ids:
        return {}
    query = (
        select(NotificationAttempt)
        .where(NotificationAttempt.notification_id.in_(ids))
        .order_by(NotificationAttempt.notification_id, NotificationAttempt.id)
    )
    out: dict[int, list[NotificationAttempt]] = {}
    for attempt in (await session.execute(query)).scalars():
        out.setdefault(attempt.notification_id, []).append(attempt)
    return out
