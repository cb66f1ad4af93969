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
        inspection.rectification_id = await _open_rectification(session, settings=settings, inspection=inspection)
    await outbox.add(session, _recorded(inspection))
    return inspection


async def _open_rectification(session: AsyncSession, *, settings: RatingSettings, inspection: Inspection) -> str:
    """The rectification a finding puts the department on; its id."""
    case = await rectifications.open_case(
        session,
        settings=settings,
        origin="inspection",
        department=inspection.department,
        window=inspection.window,
        application_no=None,
        item_code=None,
        complaint=inspection.problem,
        inspection_id=inspection.inspection_id,
        opened_at=inspection.recorded_at,
    )
    return case.rectification_id


def _recorded(inspection: Inspection) -> InspectionRecorded:
    """The event of a recorded finding."""
    return InspectionRecorded(
        inspection_id=inspection.inspection_id,
        department=inspection.department,
        window=inspection.window,
        problem=inspection.problem,
        penalty=inspection.penalty,
        penalty_points=inspection.penalty_points,
        inspected_on=inspection.inspected_on,
        rectification_id=inspection.rectification_id,
        hall=inspection.hall,
    )
