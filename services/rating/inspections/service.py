"""Inspection rules: a finding is recorded, penalised, published and put on a rectification clock."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Principal, Unprocessable
from owkernel.contracts.rating import InspectionRecorded
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of
from services.rating.common import local_date, new_id
from services.rating.db import outbox
from services.rating.inspections import repository
from services.rating.inspections.models import Inspection
from services.rating.rectifications import service as rectifications
from services.rating.settings import RatingSettings


async def record(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    principal: Principal,
    department: str,
    window: str | None,
    problem: str,
    penalty: str | None,
    penalty_points: int | None,
    inspected_on: date | None,
    rectify: bool,
    hall: str = CITY_HALL,
) -> Inspection:
    """Record a finding; unless told otherwise it opens a rectification for the department."""
    now = clock_of(session).now()
    today = local_date(now, settings)
    on = inspected_on or today
    if on > today:
        raise Unprocessable("An inspection cannot be dated in the future.")
    inspection = Inspection(
        inspection_id=new_id("IN"),
        department=department,
        window=window,
        hall=hall,
        problem=problem,
        penalty=penalty,
        penalty_points=settings.assessment_default_finding_points if penalty_points is None else penalty_points,
        inspected_on=on,
        recorded_by=principal.username or principal.subject_id,
        recorded_at=now,
    )
    repository.add(session, inspection)
    if rectify:
        case = await rectifications.open_case(
            session,
            settings=settings,
            origin="inspection",
            department=department,
            window=window,
            application_no=None,
            item_code=None,
            complaint=problem,
            inspection_id=inspection.inspection_id,
            opened_at=now,
        )
        inspection.rectification_id = case.rectification_id
    await outbox.add(
        session,
        InspectionRecorded(
            inspection_id=inspection.inspection_id,
            department=department,
            window=window,
            problem=problem,
            penalty=penalty,
            penalty_points=inspection.penalty_points,
            inspected_on=on,
            rectification_id=inspection.rectification_id,
            hall=hall,
        ),
    )
    return inspection
