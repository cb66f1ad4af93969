"""Rectification cases: lists, return visit, appeal and decision, result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from owkernel import (
    CursorParam,
    Forbidden,
    LimitParam,
    NotFound,
    Page,
    Principal,
    SessionDep,
    VerifiedPrincipal,
)
from owkernel.pagination import decode_time_cursor, page_of
from owkernel.roles import Supervisor
from services.rating.deps import SettingsDep
from services.rating.rectifications import repository, service
from services.rating.rectifications.models import Rectification
from services.rating.rectifications.schemas import (
    Appeal,
    AppealDecisionIn,
    AppealIn,
    PublishedOut,
    RectificationOut,
    ResultIn,
    Status,
    Visit,
    VisitIn,
)

router = APIRouter(prefix="/api/v1/rectifications", tags=["rectifications"])


def case_out(case: Rectification, principal: Principal) -> dict[str, Any]:
    """A case for a response; oversight sees the application number, the department rated does not."""
    oversight = principal.has_role(*service.OVERSIGHT)
    visit = None
    if case.visited_at is not None:
        visit = Visit(
            account=case.visit_account,
            confirmed=case.visit_confirmed,
            visited_at=case.visited_at,
            visited_by=case.visited_by,
        )
    appeal = None
    if case.appealed_at is not None:
        appeal = Appeal(
            reason=case.appeal_reason,
            appealed_by=case.appealed_by,
            appealed_at=case.appealed_at,
            decision=case.appeal_decision,
            opinion=case.appeal_opinion,
            decided_by=case.appeal_decided_by,
            decided_at=case.appeal_decided_at,
        )
    return RectificationOut(
        rectification_id=case.rectification_id,
        origin=case.origin,
        status=case.status,
        department=case.department,
        window=case.window,
        application_no=case.application_no if oversight else None,
        item_code=case.item_code,
        review_id=case.review_id,
        inspection_id=case.inspection_id,
        channel=case.channel,
        score=case.score,
        complaint=case.complaint,
        due_working_days=case.due_working_days,
        opened_at=case.opened_at,
        clock_id=case.clock_id,
        due_date=case.due_date,
        card=case.card,
        visit=visit,
        appeal=appeal,
        result=case.result,
        closed_at=case.closed_at,
        on_time=case.on_time,
    ).model_dump(mode="json")


@router.get("", response_model=Page[RectificationOut])
async def list_cases(
    session: SessionDep,
    principal: VerifiedPrincipal,
    status: Status | None = None,
    department: Annotated[str | None, Query(max_length=80)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Any:
    """Supervisors see every case; a department's staff see their department's."""
    if not principal.has_role(*service.OVERSIGHT):
        if not (principal.is_staff and principal.department):
            raise Forbidden("Rectification cases are for supervisors and the departments concerned.")
        department = principal.department
    rows = await repository.page(
        session, limit=limit + 1, after=decode_time_cursor(cursor), status=status, department=department
    )
    return page_of(rows, limit, key=service.cursor_key, item=lambda c: case_out(c, principal))


@router.get("/published", response_model=Page[PublishedOut])
async def published(
    session: SessionDep,
    department: Annotated[str | None, Query(max_length=80)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Any:
    """The published outcomes of closed cases (public: no personal data, no review text)."""
    rows = await repository.page(
        session, limit=limit + 1, after=decode_time_cursor(cursor), department=department, closed_only=True
    )
    return page_of(rows, limit, key=service.cursor_key, item=_published_out)


def _published_out(c: Rectification) -> PublishedOut:
    return PublishedOut(
        rectification_id=c.rectification_id,
        origin=c.origin,
        department=c.department,
        window=c.window,
        outcome=c.status,
        result=c.result,
        opened_at=c.opened_at,
        closed_at=c.closed_at,
        on_time=c.on_time,
    )


@router.get("/{rectification_id}", response_model=RectificationOut)
async def get_case(rectification_id: str, session: SessionDep, principal: VerifiedPrincipal) -> Any:
    """One case: for supervisors, the department concerned, and the applicant who rated (to follow it)."""
    case = await service.load(session, rectification_id)
    if not (service.may_see(principal, case) or await service.is_rater(session, principal, case)):
        raise NotFound(f"No rectification {rectification_id}.")
    return case_out(case, principal)


@router.post("/{rectification_id}/visit", response_model=RectificationOut)
async def record_visit(rectification_id: str, body: VisitIn, session: SessionDep, principal: VerifiedPrincipal) -> Any:
    """The return visit: the applicant tells their account, or a supervisor takes it down."""
    case = await service.load(session, rectification_id, for_update=True)
    await service.record_visit(session, case=case, principal=principal, account=body.account, confirmed=body.confirmed)
    return case_out(case, principal)


@router.post("/{rectification_id}/appeal", response_model=RectificationOut)
async def appeal(rectification_id: str, body: AppealIn, session: SessionDep, principal: VerifiedPrincipal) -> Any:
    """The department appeals a malicious or mistaken review."""
    case = await service.load(session, rectification_id, for_update=True)
    if not service.may_see(principal, case):
        raise NotFound(f"No rectification {rectification_id}.")
    await service.appeal(session, case=case, principal=principal, reason=body.reason)
    return case_out(case, principal)


@router.post("/{rectification_id}/appeal/decision", response_model=RectificationOut)
async def decide_appeal(
    rectification_id: str,
    body: AppealDecisionIn,
    session: SessionDep,
    principal: Supervisor,
    settings: SettingsDep,
) -> Any:
    """The supervisor upholds (the review is annulled) or dismisses the appeal."""
    case = await service.load(session, rectification_id, for_update=True)
    await service.decide_appeal(
        session, settings=settings, case=case, principal=principal, decision=body.decision, opinion=body.opinion
    )
    return case_out(case, principal)


@router.post("/{rectification_id}/result", response_model=RectificationOut)
async def record_result(
    rectification_id: str, body: ResultIn, session: SessionDep, principal: VerifiedPrincipal, settings: SettingsDep
) -> Any:
    """The result is recorded: the case closes and its outcome is published."""
    case = await service.load(session, rectification_id, for_update=True)
    if not service.may_see(principal, case):
        raise NotFound(f"No rectification {rectification_id}.")
    await service.record_result(session, settings=settings, case=case, principal=principal, result=body.result)
    return case_out(case, principal)
