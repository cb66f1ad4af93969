"""Tasks: approvers list and decide their department's tasks; supervisors see every task."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from owkernel.app import SessionDep
from owkernel.auth import CurrentPrincipal, Principal
from owkernel.errors import Forbidden, NotFound
from owkernel.halls import HALL_CODE_PATTERN
from owkernel.idempotency import IdempotencyKey, request_hash
from owkernel.kernel import get_kernel
from owkernel.pagination import CursorParam, LimitParam, Page, decode_time_cursor, page_of, time_key
from services.approval.clocks.models import ClockFacts
from services.approval.deps import idempotency, sees_all
from services.approval.runtime import ApprovalKernel
from services.approval.tasks import repository, service
from services.approval.tasks.models import ApplicationFacts, TaskFacts
from services.approval.tasks.repository import ListedTask
from services.approval.tasks.schemas import DecisionIn, DecisionOut, TaskOut

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

CARDS = {0: None, 1: "yellow", 2: "red"}


def task_out(task: TaskFacts, clock: ClockFacts, application: ApplicationFacts) -> TaskOut:
    """The API shape of a task (of its objects, or of rows read through the same facts)."""
    return TaskOut(
        task_id=task.task_id,
        application_no=task.application_no,
        department=task.department,
        stage=task.stage,
        due_date=clock.due_date,
        card=CARDS[clock.card_level],
        status=task.status,
        lead=task.lead,
        item_code=application.item_code,
        item_name=application.item_name,
        applicant_name=application.applicant_name,
        project_no=application.project_no,
        started_on=clock.started_on,
        provisional=clock.provisional,
        suspended=clock.status == "suspended",
        clock_id=clock.clock_id,
        application_status=application.status,
        opinion=task.opinion,
        decided_by=task.decided_by,
        decided_at=task.decided_at,
        hall=application.hall,
    )


def decided_out(decided: service.Decided, clock: ClockFacts) -> TaskOut:
    """The API shape of a task as its decision left it (as ``task_out`` would give of it read again)."""
    return task_out(decided.task, clock, decided.application).model_copy(
        update={
            "status": decided.status,
            "suspended": clock.status == "suspended" and not decided.clock_closed,
            "application_status": decided.application_status,
            "opinion": decided.opinion,
            "decided_by": decided.decided_by,
            "decided_at": decided.decided_at,
        }
    )


def listed_out(row: ListedTask) -> TaskOut:
    """The API shape of a task as the list reads it (one row of its columns, its clock's and its
    application's), the same as ``task_out`` gives of the three objects."""
    return TaskOut(
        task_id=row.task_id,
        application_no=row.application_no,
        department=row.department,
        stage=row.stage,
        due_date=row.due_date,
        card=CARDS[row.card_level],
        status=row.status,
        lead=row.lead,
        item_code=row.item_code,
        item_name=row.item_name,
        applicant_name=row.applicant_name,
        project_no=row.project_no,
        started_on=row.started_on,
        provisional=row.provisional,
        suspended=row.clock_status == "suspended",
        clock_id=row.clock_id,
        application_status=row.application_status,
        opinion=row.opinion,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        hall=row.hall,
    )


def visible_department(principal: Principal, wanted: str | None) -> str | None:
    """The department whose tasks the caller may list (None: all); 403 for anyone else."""
    if sees_all(principal):
        return wanted
    if principal.has_role("approver") and principal.department:
        if wanted is not None and wanted != principal.department:
            raise Forbidden("Approvers see only their own department's tasks.")
        return principal.department
    raise Forbidden("Only approvers and supervisors see tasks.")


@router.get("", response_model=Page[TaskOut])
async def list_tasks(
    request: Request,
    principal: CurrentPrincipal,
    status: Literal["open", "approved", "rejected", "cancelled", "decided"] | None = None,
    department: str | None = None,
    application_no: str | None = None,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Response:
    """Approver: their department's tasks; supervisor: every task. Oldest first."""
    scope = visible_department(principal, department)
    after = decode_time_cursor(cursor)
    # The approvers' poll holds its unit of work itself rather than through SessionDep (a
    # generator dependency costs more than the block; issue 22), as the decision does.
    async with get_kernel(request).db.transaction() as session:
        rows = await repository.list_tasks(
            session,
            department=scope,
            status=status,
            application_no=application_no,
            after=after,
            limit=limit + 1,
            hall=hall,
        )
    page = page_of(rows, limit, key=lambda row: time_key(row.created_at, row.task_id), item=listed_out)
    # The approvers' poll: the page is already a Page[TaskOut], so it is written out as it is
    # rather than dumped, validated again and serialised by the framework (most of the route's CPU).
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: str, session: SessionDep, principal: CurrentPrincipal) -> TaskOut:
    """One task (an approver sees only their own department's)."""
    found = await repository.task_with_clock(session, task_id)
    if found is None:
        raise NotFound("No such task.")
    scope = visible_department(principal, None)
    if scope is not None and found[0].department != scope:
        raise Forbidden("This task belongs to another department.")
    return task_out(*found)


@router.post("/{task_id}/decision", response_model=DecisionOut)
async def decide(
    task_id: str,
    body: DecisionIn,
    request: Request,
    principal: CurrentPrincipal,
    key: IdempotencyKey = None,
) -> object:
    """An approver of the task's department approves or rejects it (409 once decided)."""
    kernel: ApprovalKernel = get_kernel(request)
    fingerprint = request_hash("POST", request.url.path, body.model_dump_json())
    # The route holds its unit of work itself, as SessionDep would (committed before the answer
    # is sent, rolled back on an exception): a decision comes with every application, and
    # FastAPI's generator dependencies (SessionDep, RuntimeDep over KernelDep) cost more than
    # the block (issue 22).
    async with kernel.db.transaction() as session:
        replay = await idempotency.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
        if replay is not None:
            return replay
        decided = await service.decide(
            session,
            runtime=kernel.state,
            task_id=task_id,
            principal=principal,
            decision=body.decision,
            opinion=body.opinion,
        )
        # The rows the decision read, with what it wrote of them, are what a read of the task
        # would return now, so the response is built from them without that read.
        if decided.clock is None:
            raise NotFound("No such task.")
        result = DecisionOut(
            task=decided_out(decided, decided.clock),
            application_no=decided.application.application_no,
            application_status=decided.application_status,
            certificate_no=decided.certificate.certificate_no if decided.certificate else None,
        )
        body_json = result.model_dump(mode="json")
        await idempotency.remember(
            session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=200, body=body_json
        )
    return JSONResponse(body_json, status_code=200)
