"""Electronic supervision: cards, summary figures, records, reminders, and an on-demand scan."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from owkernel.app import SessionDep
from owkernel.halls import HALL_CODE_PATTERN
from owkernel.pagination import (
    CursorParam,
    LimitParam,
    Page,
    as_int,
    decode_pair_cursor,
    decode_time_cursor,
    page_of,
    parse_instant,
    time_key,
)
from owkernel.roles import Supervisor
from services.approval.clocks.endpoints import clock_out
from services.approval.clocks.models import Clock
from services.approval.deps import KernelDep, RuntimeDep
from services.approval.reminders import repository as reminders_repository
from services.approval.reminders.models import Notification, NotificationAttempt
from services.approval.supervision import repository, service
from services.approval.supervision.models import Card, SupervisionRecord
from services.approval.supervision.schemas import (
    AttemptOut,
    CardOut,
    DepartmentSummary,
    NotificationOut,
    RecordOut,
    ScanOut,
    SummaryOut,
)

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])


@router.get("/cards", response_model=Page[CardOut])
async def list_cards(
    session: SessionDep,
    principal: Supervisor,
    color: Literal["yellow", "red"] | None = None,
    department: str | None = None,
    kind: Literal["task", "stage", "application", "consultation", "rectification"] | None = None,
    open: bool = False,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[CardOut]:
    """Every yellow and red card with its clock, newest first (``open=true``: clocks still running)."""
    rows = await repository.list_cards(
        session,
        color=color,
        department=department,
        kind=kind,
        open_only=open,
        after=decode_time_cursor(cursor),
        limit=limit + 1,
        hall=hall,
    )
    return page_of(rows, limit, key=lambda row: time_key(row[0].raised_at, row[0].card_id), item=_card_out)


def _card_out(row: tuple[Card, Clock]) -> CardOut:
    card, clock = row
    return CardOut(
        card_id=card.card_id,
        color=card.color,
        clock_kind=card.clock_kind,
        ref=card.ref,
        department=card.department,
        application_no=card.application_no,
        project_no=card.project_no,
        stage=card.stage,
        task_id=card.task_id,
        due_date=card.due_date,
        raised_at=card.raised_at,
        clock=clock_out(clock),
        hall=card.hall,
    )


@router.get("/summary", response_model=SummaryOut)
async def summary(
    session: SessionDep,
    principal: Supervisor,
    runtime: RuntimeDep,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    by: Literal["department", "hall"] = "department",
) -> SummaryOut:
    """Per department (or per hall, ``by=hall``), of one hall or all: red and yellow cards, on-time rates."""
    today = runtime.today()
    rows = [DepartmentSummary(**r) for r in await service.summary(session, today=today, by=by, hall=hall)]
    return SummaryOut(
        as_of=today,
        red_cards=sum(r.red_cards for r in rows),
        yellow_cards=sum(r.yellow_cards for r in rows),
        departments=rows,
    )


@router.get("/records", response_model=Page[RecordOut])
async def list_records(
    session: SessionDep,
    principal: Supervisor,
    kind: Literal["material_overdue", "shipment_failed"] | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[RecordOut]:
    """Overdue deferred materials and failed deliveries, newest first."""
    after = decode_pair_cursor(cursor, parse_instant, as_int)
    rows = await repository.list_records(session, kind=kind, after=after, limit=limit + 1)
    return page_of(rows, limit, key=lambda r: time_key(r.at, r.id), item=_record_out)


def _record_out(r: SupervisionRecord) -> RecordOut:
    return RecordOut(
        id=r.id,
        kind=r.kind,
        application_no=r.application_no,
        ref=r.ref,
        department=r.department,
        detail=r.detail,
        at=r.at,
    )


@router.post("/scan", response_model=ScanOut)
async def scan_now(kernel: KernelDep, principal: Supervisor, runtime: RuntimeDep) -> ScanOut:
    """Run the card scan now (it also runs on its own every few seconds)."""
    result = await service.run_scan(kernel.db, runtime=runtime)
    return ScanOut(as_of=runtime.today(), yellow=result.yellow, red=result.red)


@router.get("/notifications", response_model=Page[NotificationOut])
async def list_notifications(
    session: SessionDep,
    principal: Supervisor,
    status: Literal["pending", "sent", "failed"] | None = None,
    department: str | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[NotificationOut]:
    """Reminders to staff, newest first, each with every delivery attempt."""
    after = decode_pair_cursor(cursor, parse_instant, as_int)
    rows = await reminders_repository.listing(
        session, status=status, department=department, after=after, limit=limit + 1
    )
    history = await reminders_repository.attempts_of(session, [n.id for n in rows[:limit]])
    return page_of(
        rows, limit, key=lambda n: time_key(n.created_at, n.id), item=lambda n: _notification_out(n, history)
    )


def _notification_out(n: Notification, history: dict[int, list[NotificationAttempt]]) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        department=n.department,
        task_id=n.task_id,
        application_no=n.application_no,
        payload=n.payload,
        status=n.status,
        attempts=n.attempts,
        next_attempt_at=n.next_attempt_at,
        last_error=n.last_error,
        created_at=n.created_at,
        sent_at=n.sent_at,
        history=[
            AttemptOut(
                attempt=a.attempt,
                adapter=a.adapter,
                at=a.at,
                ok=a.ok,
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in history.get(n.id, [])
        ],
    )
