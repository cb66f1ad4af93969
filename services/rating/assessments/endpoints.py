"""The monthly 100-point assessment: supervisors compute and publish it; everyone reads it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from owkernel import CursorParam, LimitParam, NotFound, Page, SessionDep, decode_cursor
from owkernel.halls import CITY_HALL, HALL_CODE_PATTERN
from owkernel.pagination import page_of
from owkernel.roles import Supervisor
from services.rating.assessments import repository, service
from services.rating.assessments.models import Assessment
from services.rating.assessments.schemas import AssessmentIn, AssessmentOut, AssessmentRun
from services.rating.deps import SettingsDep

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments"])
# "hall": each hall as a whole (the city assesses its counties), its key the hall's code.
Scope = Literal["window", "department", "hall"]


def assessment_out(row: Assessment) -> dict[str, Any]:
    """An assessment for a response."""
    return AssessmentOut(
        month=row.month,
        scope="hall" if row.scope == "hall" else "window" if row.scope == "window" else "department",
        key=row.key,
        hall=row.hall,
        score=row.score,
        breakdown=row.breakdown,
        weights=row.weights,
        computed_at=row.computed_at,
    ).model_dump(mode="json")


@router.post("", status_code=201, response_model=AssessmentRun)
async def compute(body: AssessmentIn, session: SessionDep, principal: Supervisor, settings: SettingsDep) -> Any:
    """Compute and publish a month's scores (again: a new computation replaces the month's)."""
    rows = await service.compute(
        session, settings=settings, principal=principal, month=body.month, weights=body.weights
    )
    return {
        "month": body.month,
        "items": [assessment_out(r) for r in rows if r.scope != "hall"],
        "halls": [assessment_out(r) for r in rows if r.scope == "hall"],
    }


@router.get("", response_model=Page[AssessmentOut])
async def list_assessments(
    session: SessionDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    scope: Scope | None = None,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
    by: Literal["hall"] | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Any:
    """Published assessments (public)."""
    if by == "hall":
        # Grouped by hall: each hall's own score (the same as scope=hall).
        scope = "hall"
    key = decode_cursor(cursor, size=4)
    after = (str(key[0]), str(key[1]), str(key[2]), str(key[3])) if key else None
    rows = await repository.page(session, limit=limit + 1, after=after, month=month, scope=scope, hall=hall)
    return page_of(rows, limit, key=lambda r: [r.month, r.scope, r.key, r.hall], item=assessment_out)


@router.get("/{month}/{scope}/{key}", response_model=AssessmentOut)
async def get_assessment(
    month: str,
    scope: Scope,
    key: str,
    session: SessionDep,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
) -> Any:
    """One published assessment with its breakdown (a window's or department's of ``hall``, the city's by default)."""
    of = key if scope == "hall" else hall or CITY_HALL
    row = await repository.get(session, month=month, scope=scope, key=key, hall=of)
    if row is None:
        raise NotFound(f"No {scope} assessment of {key} for {month}.")
    return assessment_out(row)
