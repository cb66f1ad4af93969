"""Electronic supervision: the card scan, summary figures, and records of what went wrong."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.approval import CardRaised
from owkernel.db import Database
from services.approval.db import add_events
from services.approval.reminders import service as reminders
from services.approval.runtime import Runtime
from services.approval.supervision import repository
from services.approval.supervision.metrics import CARDS_RAISED
from services.approval.supervision.models import SupervisionRecord

log = structlog.get_logger("approval.supervision")


@dataclass
class ScanResult:
    """Cards raised by one scan."""

    yellow: int = 0
    red: int = 0


async def raise_cards(session: AsyncSession, *, color: str, today: date, now: datetime, limit: int) -> Counter[str]:
    """Claim up to ``limit`` clocks that turned ``color`` and raise their cards, events and reminders.

    Returns how many cards each department got (the total is the number raised).
    """
    claim = repository.claim_red if color == "red" else repository.claim_yellow
    rows = await claim(session, today=today, limit=limit)
    if not rows:
        return Counter()
    events = []
    reminders_due: list[dict[str, Any]] = []
    for row in rows:
        card_id = repository.card_id(row.clock_id, color)
        events.append(
            CardRaised(
                card_id=card_id,
                clock_id=row.clock_id,
                clock_kind=row.kind,
                ref=row.ref,
                department=row.department,
                application_no=row.application_no,
                color=color,
                due_date=row.due_date,
                raised_at=now,
                project_no=row.project_no,
                stage=row.stage,
                task_id=row.task_id,
                hall=row.hall,
            )
        )
        if row.kind == "task":
            reminders_due.append(
                {
                    "card_id": card_id,
                    "color": color,
                    "department": row.department,
                    "task_id": row.task_id,
                    "application_no": row.application_no,
                    "due_date": row.due_date,
                }
            )
    await repository.insert_cards(session, clock_ids=[row.clock_id for row in rows], color=color, raised_at=now)
    await add_events(session, events)
    await reminders.remind_cards(session, cards=reminders_due, now=now)
    return Counter(row.department or "" for row in rows)


async def run_scan(db: Database, *, runtime: Runtime, today: date | None = None) -> ScanResult:
    """One scan: red first (a clock already overdue skips yellow), then yellow; one transaction per batch."""
    today = today or runtime.today()
    now = runtime.now()
    batch = runtime.settings.card_scan_batch
    result = ScanResult()
    for color in ("red", "yellow"):
        while True:
            async with db.transaction() as session:
                by_department = await raise_cards(session, color=color, today=today, now=now, limit=batch)
            # Counted only once the batch has committed: a rolled-back claim raised nothing.
            for department, count in by_department.items():
                CARDS_RAISED.labels(color=color, department=department).inc(count)
            raised = sum(by_department.values())
            setattr(result, color, getattr(result, color) + raised)
            if raised < batch:
                break
    if result.red or result.yellow:
        log.info("cards.raised", today=str(today), yellow=result.yellow, red=result.red)
    return result


async def record(
    session: AsyncSession,
    *,
    kind: str,
    application_no: str | None,
    ref: str | None,
    department: str | None,
    detail: dict[str, Any],
    at: datetime,
) -> None:
    """Keep something supervision must see."""
    await repository.add_record(
        session,
        SupervisionRecord(
            kind=kind, application_no=application_no, ref=ref, department=department, detail=detail, at=at
        ),
    )


def _rate(good: int, total: int) -> float | None:
    return round(good / total, 4) if total else None


async def summary(
    session: AsyncSession, *, today: date, by: str = "department", hall: str | None = None
) -> list[dict[str, Any]]:
    """Per department (or per hall, ``by="hall"``), of one hall or all: red and yellow cards, task
    on-time rate, consultation on-time reply rate.

    A rate counts what is finished plus what is open and already overdue (it can no longer be
    on time); what is open and still in time is not counted yet.
    """
    cards = await repository.card_counts(session, by=by, hall=hall)
    figures = await repository.clock_figures(session, today=today, by=by, hall=hall)
    delays = await repository.applicant_delays(session, by=by, hall=hall)
    departments = sorted(
        {d for d, _ in cards} | {d for d, _ in figures} | set(delays), key=lambda d: (d is None, d or "")
    )
    out = []
    for department in departments:
        tasks = figures.get((department, "task"), {"open": 0, "closed": 0, "on_time": 0, "overdue_open": 0})
        consult = figures.get((department, "consultation"), {"open": 0, "closed": 0, "on_time": 0, "overdue_open": 0})
        rect = figures.get((department, "rectification"), {"open": 0, "closed": 0, "on_time": 0, "overdue_open": 0})
        out.append(
            {
                "department": None if by == "hall" else department,
                "hall": department if by == "hall" else hall,
                "red_cards": cards.get((department, "red"), 0),
                "yellow_cards": cards.get((department, "yellow"), 0),
                "open_tasks": tasks["open"],
                "overdue_tasks": tasks["overdue_open"],
                "tasks_closed": tasks["closed"],
                "tasks_on_time": tasks["on_time"],
                "on_time_rate": _rate(tasks["on_time"], tasks["closed"] + tasks["overdue_open"]),
                "consultations": consult["open"] + consult["closed"],
                "consultations_replied_on_time": consult["on_time"],
                "consultation_on_time_rate": _rate(consult["on_time"], consult["closed"] + consult["overdue_open"]),
                "open_rectifications": rect["open"],
                "overdue_rectifications": rect["overdue_open"],
                # The applicant's delay (容缺 materials past their deadline): shown, never counted
                # in the department's on-time rate.
                "applicant_delays": delays.get(department, 0),
            }
        )
    return out
