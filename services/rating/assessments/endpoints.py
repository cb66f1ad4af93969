"""The monthly 100-point assessment: supervisors compute and publish it; everyone reads it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from owkernel import CursorParam, LimitParam, NotFound, Page, SessionDep, decode_cursor, encode_cursor
from services.rating.assessments import repository, service
from services.rating.assessments.models import Assessment
from services.rating.assessments.schemas import AssessmentIn, AssessmentOut, AssessmentRun
from services.rating.deps import SettingsDep, Supervisor

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments"])
Scope = Literal["window", "department"]


def assessment_out(row: Assessment) -> dict[str, Any]:
    """An assessment for a response."""
    return AssessmentOut(
        month=row.month,
        scope="window" if row.scope == "window" else "department",
        key=row.key,
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
    return {"month": body.month, "items": [assessment_out(r) for r in rows]}


@router.get("", response_model=Page[AssessmentOut])
async def list_assessments(
    session: SessionDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    scope: Scope | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Any:
    """Published assessments (public)."""
    key = decode_cursor(cursor, size=3)
    after = (str(key[0]), str(key[1]), str(key[2])) if key else None
    rows = await repository.page(session, limit=limit + 1, after=after, month=month, scope=scope)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.month, last.scope, last.key])
    return {"items": [assessment_out(r) for r in rows[:limit]], "next_cursor": next_cursor}


@router.get("/{month}/{scope}/{key}", response_model=AssessmentOut)
async def get_assessment(month: str, scope: Scope, key: str, session: SessionDep) -> Any:
    """One published assessment with its breakdown."""
    row = await repository.get(session, month=month, scope=scope, key=key)
    if row is None:
        raise NotFound(f"No {scope} assessment of {key} for {month}.")
    return assessment_out(row)
