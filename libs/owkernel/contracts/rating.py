"""Events rating publishes (stream RATING)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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


@event("rating.rectification.opened", summary="A bad review or an inspection finding opens a rectification clock.")
class RectificationOpened(EventData):
    rectification_id: str
    origin: Literal["review", "inspection"]
    department: str
    window: str | None = None
    application_no: str | None = None
    due_working_days: int
    opened_at: datetime


@event("rating.rectification.closed", summary="A rectification was done (or its review was annulled on appeal).")
class RectificationClosed(EventData):
    rectification_id: str
    department: str
    outcome: Literal["rectified", "annulled"]
    closed_at: datetime
