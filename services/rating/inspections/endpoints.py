"""Inspection findings: supervisors record them; they are published to everyone."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from owkernel import (
    CursorParam,
    IdempotencyKey,
    LimitParam,
    NotFound,
    Page,
    SessionDep,
)
from owkernel.halls import HALL_CODE_PATTERN
from owkernel.pagination import as_text, decode_pair_cursor, next_cursor_of
from owkernel.roles import Supervisor
from services.rating.common import idempotent_create
from services.rating.deps import SettingsDep
from services.rating.inspections import repository, service
from services.rating.inspections.models import Inspection
from services.rating.inspections.schemas import InspectionIn, InspectionOut
from services.rating.rectifications import repository as rectifications

router = APIRouter(prefix="/api/v1/inspections", tags=["inspections"])


async def inspection_out(session: SessionDep, inspection: Inspection) -> dict[str, Any]:
    """A finding for a response, with where its rectification stands."""
    status = None
    if inspection.rectification_id:
        case = await rectifications.get(session, inspection.rectification_id)
        status = case.status if case is not None else None
    return InspectionOut(
        inspection_id=inspection.inspection_id,
        department=inspection.department,
        window=inspection.window,
        hall=inspection.hall,
        problem=inspection.problem,
        penalty=inspection.penalty,
        penalty_points=inspection.penalty_points,
        inspected_on=inspection.inspected_on,
        recorded_at=inspection.recorded_at,
        rectification_id=inspection.rectification_id,
        rectification_status=status,
    ).model_dump(mode="json")


@router.post("", status_code=201, response_model=InspectionOut)
async def record_inspection(
    body: InspectionIn,
    request: Request,
    session: SessionDep,
    principal: Supervisor,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> Any:
    """Record a finding: penalty, publication, and a rectification on a supervision clock."""

    async def create() -> dict[str, Any]:
        inspection = await service.record(
            session,
            settings=settings,
            principal=principal,
            department=body.department,
            window=body.window,
            problem=body.problem,
            penalty=body.penalty,
            penalty_points=body.penalty_points,
            inspected_on=body.inspected_on,
            rectify=body.rectify,
            hall=body.hall,
        )
        return await inspection_out(session, inspection)

    return await idempotent_create(
        session, request=request, owner=principal.subject_id, key=key, body=body.model_dump_json(), create=create
    )


@router.get("", response_model=Page[InspectionOut])
async def list_inspections(
    session: SessionDep,
    department: Annotated[str | None, Query(max_length=80)] = None,
    window: Annotated[str | None, Query(max_length=40)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Any:
    """The published findings (public), of one hall or all."""
    after = decode_pair_cursor(cursor, date.fromisoformat, as_text)
    rows = await repository.page(
        session, limit=limit + 1, after=after, department=department, window=window, start=from_, end=to, hall=hall
    )
    items = [await inspection_out(session, i) for i in rows[:limit]]
    key = next_cursor_of(rows, limit, key=lambda i: [i.inspected_on.isoformat(), i.inspection_id])
    return Page[InspectionOut](items=items, next_cursor=key)


@router.get("/{inspection_id}", response_model=InspectionOut)
async def get_inspection(inspection_id: str, session: SessionDep) -> Any:
    """One published finding."""
    inspection = await repository.get(session, inspection_id)
    if inspection is None:
        raise NotFound(f"No inspection {inspection_id}.")
    return await inspection_out(session, inspection)
