"""Request and response shapes of rectification cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["open", "appealed", "rectified", "annulled"]


class Visit(BaseModel):
    """The return visit's record."""

    account: str | None = None
    confirmed: bool | None = None
    visited_at: datetime | None = None
    visited_by: str | None = None


class Appeal(BaseModel):
    """The department's appeal and the supervisor's decision."""

    reason: str | None = None
    appealed_by: str | None = None
    appealed_at: datetime | None = None
    decision: str | None = None
    opinion: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class RectificationOut(BaseModel):
    """A case: owner department, due date and card from supervision, visit, appeal and result.

    Nothing here says who rated; staff of the department rated do not even get the application number.
    """

    rectification_id: str
    origin: str
    status: str
    department: str
    window: str | None = None
    application_no: str | None = None
    item_code: str | None = None
    review_id: str | None = None
    inspection_id: str | None = None
    channel: str | None = None
    score: int | None = None
    complaint: str | None = None
    due_working_days: int
    opened_at: datetime
    clock_id: str | None = None
    due_date: date | None = None
    card: str | None = None
    visit: Visit | None = None
    appeal: Appeal | None = None
    result: str | None = None
    closed_at: datetime | None = None
    on_time: bool | None = None


class PublishedOut(BaseModel):
    """A closed case as the public sees it."""

    rectification_id: str
    origin: str
    department: str
    window: str | None = None
    outcome: str
    result: str | None = None
    opened_at: datetime
    closed_at: datetime | None = None
    on_time: bool | None = None


class VisitIn(BaseModel):
    """The applicant's account of the return visit."""

    account: str = Field(min_length=1, max_length=4000)
    confirmed: bool | None = Field(default=None, description="the applicant confirms the problem")


class AppealIn(BaseModel):
    """Why the review is malicious or mistaken."""

    reason: str = Field(min_length=1, max_length=4000)


class AppealDecisionIn(BaseModel):
    """The supervisor's decision on an appeal."""

    decision: Literal["upheld", "dismissed"]
    opinion: str = Field(min_length=1, max_length=4000)


class ResultIn(BaseModel):
    """What the department did."""

    result: str = Field(min_length=1, max_length=4000)
