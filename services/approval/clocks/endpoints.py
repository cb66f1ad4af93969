"""Clocks: staff read them with their ledgers; a supervisor grants an extension."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from owkernel.app import SessionDep
from owkernel.auth import Principal
from owkernel.errors import Forbidden, NotFound
from owkernel.idempotency import IdempotencyKey, request_hash
from owkernel.pagination import CursorParam, LimitParam, Page, decode_time_cursor, page_of, time_key
from owkernel.roles import CaseStaff, Supervisor
from services.approval.clocks import repository, service
from services.approval.clocks.models import Clock
from services.approval.clocks.schemas import ClockDetailOut, ClockOut, ExtensionIn, LedgerEntryOut
from services.approval.deps import RuntimeDep, idempotency, sees_all

router = APIRouter(prefix="/api/v1/clocks", tags=["clocks"])

CARDS = {0: None, 1: "yellow", 2: "red"}


def clock_out(clock: Clock) -> ClockOut:
    """The API shape of a clock."""
    return ClockOut(
        clock_id=clock.clock_id,
        kind=clock.kind,
        ref=clock.ref,
        department=clock.department,
        application_no=clock.application_no,
        project_no=clock.project_no,
        stage=clock.stage,
        task_id=clock.task_id,
        started_on=clock.started_on,
        working_days=clock.working_days,
        suspended_days=clock.suspended_days,
        extension_days=clock.extension_days,
        due_date=clock.due_date,
        yellow_on=clock.yellow_on,
        provisional=clock.provisional,
        status=clock.status,
        card=CARDS[clock.card_level],
        opened_at=clock.opened_at,
        closed_at=clock.closed_at,
        on_time=clock.on_time,
        outcome=clock.outcome,
    )


def _scope(principal: Principal) -> str | None:
    """Approvers see their own department's clocks; supervisors, admins and clerks see all."""
    if sees_all(principal) or principal.has_role("clerk"):
        return None
    if principal.department:
        return principal.department
    raise Forbidden("An approver without a department sees no clocks.")


@router.get("", response_model=Page[ClockOut])
async def list_clocks(
    session: SessionDep,
    principal: CaseStaff,
    kind: Literal["task", "stage", "application", "consultation", "rectification"] | None = None,
    department: str | None = None,
    application_no: str | None = None,
    status: Literal["running", "suspended", "closed"] | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ClockOut]:
    """Clocks, newest first."""
    scope = _scope(principal)
    if scope is not None and department not in (None, scope):
        raise Forbidden("Approvers see only their own department's clocks.")
    rows = await repository.listing(
        session,
        kind=kind,
        department=scope or department,
        application_no=application_no,
        status=status,
        after=decode_time_cursor(cursor),
        limit=limit + 1,
    )
    return page_of(rows, limit, key=lambda c: time_key(c.opened_at, c.clock_id), item=clock_out)


async def _detail(session: SessionDep, clock: Clock) -> ClockDetailOut:
    ledger = await repository.ledger(session, clock.clock_id)
    return ClockDetailOut(
        **clock_out(clock).model_dump(),
        ledger=[
            LedgerEntryOut(
                kind=e.kind,
                reason=e.reason,
                from_date=e.from_date,
                to_date=e.to_date,
                working_days=e.working_days,
                due_before=e.due_before,
                due_after=e.due_after,
                at=e.at,
                by=e.by,
            )
            for e in ledger
        ],
    )


@router.get("/{clock_id}", response_model=ClockDetailOut)
async def get_clock(clock_id: str, session: SessionDep, principal: CaseStaff) -> ClockDetailOut:
    """One clock with its ledger of suspensions, extensions and recomputations."""
    clock = await repository.get(session, clock_id)
    if clock is None:
        raise NotFound("No such clock.")
    scope = _scope(principal)
    if scope is not None and clock.department != scope:
        raise Forbidden("This clock belongs to another department.")
    return await _detail(session, clock)


@router.post("/{clock_id}/extensions", response_model=ClockDetailOut)
async def extend_clock(
    clock_id: str,
    body: ExtensionIn,
    request: Request,
    session: SessionDep,
    principal: Supervisor,
    runtime: RuntimeDep,
    key: IdempotencyKey = None,
) -> object:
    """Grant a running clock more working days (a supervisor's decision, with its reason)."""
    fingerprint = request_hash("POST", request.url.path, body.model_dump_json())
    replay = await idempotency.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    clock = await repository.get(session, clock_id)
    if clock is None:
        raise NotFound("No such clock.")
    await service.extend(
        session, runtime=runtime, clock=clock, working_days=body.working_days, reason=body.reason, by=principal.display
    )
    result = (await _detail(session, clock)).model_dump(mode="json")
    await idempotency.remember(
        session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=200, body=result
    )
    return JSONResponse(result, status_code=200)
