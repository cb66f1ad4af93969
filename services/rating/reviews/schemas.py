"""Request and response shapes of ratings, rating links and figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Score = Annotated[int, Field(ge=1, le=5, description="5 very satisfied ... 1 very dissatisfied")]
Comment = Annotated[str | None, Field(default=None, max_length=2000)]


class Indicators(BaseModel):
    """The national indicator scores, where the rater gives them (online / on site sets)."""

    model_config = ConfigDict(extra="forbid")

    overall: Score | None = None
    efficiency: Score | None = None
    guide_accuracy: Score | None = None
    convenience: Score | None = None
    ease_of_use: Score | None = None
    service_level: Score | None = None
    attitude: Score | None = None

    def given(self) -> dict[str, int] | None:
        """Only the scores the rater gave."""
        values = self.model_dump(exclude_none=True)
        return values or None


class RatingIn(BaseModel):
    """An online rating by the applicant."""

    application_no: str = Field(min_length=1, max_length=40)
    score: Score
    comment: Comment = None
    indicators: Indicators | None = None


class RatingOut(BaseModel):
    """A rating as its rater (or oversight) sees it: never who rated."""

    review_id: str
    channel: str
    score: int
    comment: str | None = None
    indicators: dict[str, Any] | None = None
    application_no: str | None = None
    item_code: str | None = None
    department: str | None = None
    window: str | None = None
    rated_at: datetime
    annulled: bool = False
    rectification_id: str | None = None


class LinkIn(BaseModel):
    """Ask for a rating link for an application's applicant."""

    application_no: str = Field(min_length=1, max_length=40)


class LinkOut(BaseModel):
    """A rating link sent to the applicant: where it went, never what redeems it."""

    link_id: str
    application_no: str
    channel: str = Field(description="how it was sent: sms")
    sent_to: str | None = Field(
        description="the applicant's phone number, masked (138****0000); null when none is known"
    )
    expires_at: datetime


class ByLinkIn(BaseModel):
    """A rating through a link, without logging in."""

    token: str = Field(min_length=10, max_length=1000)
    score: Score
    comment: Comment = None
    indicators: Indicators | None = None


StatsBy = Literal["department", "window", "item", "clerk", "channel", "hall"]


class StatsItem(BaseModel):
    """One group's figures."""

    key: str
    count: int
    satisfied: int
    satisfaction_rate: float | None
    dissatisfied: int
    bad_reviews: int
    rectified: int
    rectified_on_time: int
    average_score: float | None
    scores: dict[str, int]


class StatsOut(BaseModel):
    """Satisfaction figures (scores 3-5 count as satisfied)."""

    by: str
    items: list[StatsItem]
    total: StatsItem
    from_: str | None = Field(default=None, serialization_alias="from")
    to: str | None = None
