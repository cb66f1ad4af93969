"""Events rating publishes (stream RATING)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from annotated_types import Interval

from owkernel.contracts._base import EventData, event

Channel = Literal["online", "kiosk", "link", "survey"]


@event("rating.review.submitted", summary="A rating from any channel.")
class ReviewSubmitted(EventData):
    review_id: str
    channel: Channel
    score: int
    application_no: str | None = None
    item_code: str | None = None
    department: str | None = None
    window: str | None = None
    at: datetime
    clerk: str | None = None
    # The hall (市/县 政务服务大厅) it happened at, by code; None from producers older than halls (the city's).
    hall: str | None = None


@event("rating.rectification.opened", summary="A bad review or an inspection finding opens a rectification clock.")
class RectificationOpened(EventData):
    rectification_id: str
    origin: Literal["review", "inspection"]
    department: str
    window: str | None = None
    application_no: str | None = None
    due_working_days: int
    opened_at: datetime
    review_id: str | None = None
    inspection_id: str | None = None
    item_code: str | None = None


@event("rating.rectification.closed", summary="A rectification was done (or its review was annulled on appeal).")
class RectificationClosed(EventData):
    rectification_id: str
    department: str
    outcome: Literal["rectified", "annulled"]
    closed_at: datetime
    result: str | None = None


@event(
    "rating.inspection.recorded",
    summary="A supervisor recorded a window inspection finding (published; it opens a rectification).",
)
class InspectionRecorded(EventData):
    inspection_id: str
    department: str
    window: str | None = None
    problem: str
    penalty: str | None = None
    penalty_points: int
    inspected_on: date
    rectification_id: str | None = None
    # The hall (市/县 政务服务大厅) it happened at, by code; None from producers older than halls (the city's).
    hall: str | None = None


# Finite, bounded numbers (a NaN or an infinity has no JSON form).
Points = Annotated[float, Interval(ge=0, le=100)]
Measure = Annotated[float, Interval(ge=0, le=1_000_000)]


class AssessmentComponent(EventData):
    """One line of a 100-point assessment's breakdown."""

    name: str
    weight: Points
    # The measured value (a rate 0..1, or a count for red cards and inspection findings);
    # None when there was nothing to measure that month (the component then scores in full).
    value: Measure | None = None
    score: Points
    detail: str | None = None


@event("rating.assessment.published", summary="A window's or department's monthly 100-point assessment.")
class AssessmentPublished(EventData):
    month: str
    scope: Literal["window", "department"]
    key: str
    score: Points
    breakdown: list[AssessmentComponent]
    published_at: datetime
    # The hall whose window or department it is; None from producers older than halls (the city's).
    hall: str | None = None
