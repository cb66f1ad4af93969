"""Reminders: a push when a task turns yellow or red, a daily digest per department; each written
in the transaction of its cause, delivered afterwards, every attempt recorded, failures retried
with exponential back-off until ``notify_max_attempts``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.db import Database
from services.approval.reminders import repository
from services.approval.reminders.models import NotificationAttempt
from services.approval.reminders.port import DeliveryFailed, Notifier, OutgoingMessage
from services.approval.runtime import Runtime
from services.approval.settings import ApprovalSettings
from services.approval.tasks import repository as tasks_repository

log = structlog.get_logger("approval.reminders")

CARD_TEXT = {
    "yellow": "任务临近办理时限（黄牌预警）",
    "red": "任务已超过办理时限（红牌）",
}


def wall_clock() -> datetime:
    """Real time: delivery and retries run on it, whatever business day the runtime says it is."""
    return datetime.now(UTC)


async def remind_cards(session: AsyncSession, *, cards: list[dict[str, Any]], now: datetime) -> None:
    """One reminder per task card, to the task's department."""
    sent_after = wall_clock()
    rows = [
        {
            "dedupe_key": f"card:{card['card_id']}",
            "kind": f"task_{card['color']}",
            "department": card["department"],
            "task_id": card["task_id"],
            "application_no": card["application_no"],
            "payload": {
                "card": card["color"],
                "card_id": card["card_id"],
                "task_id": card["task_id"],
                "application_no": card["application_no"],
                "due_date": card["due_date"].isoformat(),
                "raised_at": now.isoformat(),
                "text": CARD_TEXT[card["color"]],
            },
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": sent_after,
            "created_at": sent_after,
        }
        for card in cards
    ]
    await repository.insert_many(session, rows)


async def remind_applicant_of_material(
    session: AsyncSession,
    *,
    application_no: str,
    department: str | None,
    id_number: str,
    material_code: str,
    material_name: str,
    due_date: str,
    now: datetime,
) -> None:
    """One reminder to the applicant whose deferred material (容缺) is past its deadline: the
    certificate waits for it, the department's review does not."""
    sent_after = wall_clock()
    row = {
        "dedupe_key": f"material:{application_no}:{material_code}",
        "kind": "applicant_material",
        "department": department,
        "task_id": None,
        "application_no": application_no,
        "payload": {
            "to": "applicant",
            "id_number": id_number,
            "application_no": application_no,
            "material_code": material_code,
            "due_date": due_date,
            "overdue_at": now.isoformat(),
            "text": f"容缺材料「{material_name}」已超过补正期限，请尽快补交；证照将在补齐后发放",
        },
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": sent_after,
        "created_at": sent_after,
    }
    await repository.insert_many(session, [row])


async def enqueue_digests(session: AsyncSession, *, runtime: Runtime) -> int:
    """Once a day from the digest hour: each department with open tasks gets a summary of them."""
    local = runtime.now().astimezone(runtime.tz)
    if local.hour < runtime.settings.digest_hour:
        return 0
    day = local.date().isoformat()
    per_department = await tasks_repository.open_tasks_by_department(session)
    keys = [f"digest:{department}:{day}" for department, *_ in per_department]
    done = await repository.existing_keys(session, keys)
    sent_after = wall_clock()
    rows = []
    for (department, open_tasks, yellow, red), key in zip(per_department, keys, strict=True):
        if key in done:
            continue
        urgent = await tasks_repository.most_urgent_open(session, department, limit=5)
        rows.append(
            {
                "dedupe_key": key,
                "kind": "digest",
                "department": department,
                "task_id": None,
                "application_no": None,
                "payload": {
                    "date": day,
                    "open_tasks": open_tasks,
                    "yellow": yellow,
                    "red": red,
                    "most_urgent": [
                        {
                            "task_id": task.task_id,
                            "application_no": task.application_no,
                            "due_date": clock.due_date.isoformat(),
                            "card": {0: None, 1: "yellow", 2: "red"}[clock.card_level],
                        }
                        for task, clock in urgent
                    ],
                    "text": f"今日待办 {open_tasks} 件，黄牌 {yellow} 件，红牌 {red} 件",
                },
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": sent_after,
                "created_at": sent_after,
            }
        )
    await repository.insert_many(session, rows)
    return len(rows)


def backoff(settings: ApprovalSettings, attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x base, 4x base... capped."""
    seconds = min(settings.notify_backoff_seconds * 2 ** max(attempts - 1, 0), settings.notify_backoff_max_seconds)
    return timedelta(seconds=seconds)


async def dispatch_once(db: Database, *, notifier: Notifier, settings: ApprovalSettings) -> int:
    """Deliver the reminders that are due; returns how many were tried."""
    now = wall_clock()
    lease = timedelta(seconds=settings.notify_timeout_seconds * 2 + 30)
    async with db.transaction() as session:
        claimed = await repository.claim_due(session, now=now, lease_until=now + lease, limit=settings.notify_batch)
    for row in claimed:
        message = OutgoingMessage(
            message_id=f"ntf_{row.id}", kind=row.kind, department=row.department, payload=dict(row.payload)
        )
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            status_code = await notifier.send(message)
        except DeliveryFailed as exc:
            error, status_code = str(exc), exc.status_code
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not stop the other reminders
            error = f"{type(exc).__name__}: {exc}"
        elapsed = int((time.perf_counter() - started) * 1000)
        at = wall_clock()
        async with db.transaction() as session:
            await repository.record_attempt(
                session,
                NotificationAttempt(
                    notification_id=row.id,
                    attempt=row.attempts,
                    adapter=notifier.name,
                    at=at,
                    ok=error is None,
                    status_code=status_code,
                    error=error,
                    duration_ms=elapsed,
                ),
            )
            if error is None:
                await repository.settle(session, row.id, status="sent", sent_at=at, last_error=None)
            elif row.attempts >= settings.notify_max_attempts:
                await repository.settle(session, row.id, status="failed", last_error=error)
                log.error("reminder.gave_up", notification=row.id, attempts=row.attempts, error=error)
            else:
                retry_at = at + backoff(settings, row.attempts)
                await repository.settle(session, row.id, next_attempt_at=retry_at, last_error=error)
                log.warning("reminder.retry", notification=row.id, attempts=row.attempts, error=error)
    return len(claimed)
