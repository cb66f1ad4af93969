"""Request and response shapes of kiosks and kiosk votes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from owkernel.halls import CITY_HALL, HallCode
from services.rating.reviews.schemas import Comment, Indicators, Score


class KioskIn(BaseModel):
    """Register a kiosk on a window desk."""

    window: str = Field(min_length=1, max_length=40)
    department: str | None = Field(default=None, max_length=80)
    label: str | None = Field(default=None, max_length=200)
    # The hall whose desk it stands on (intake's registry of halls); the city's by default.
    hall: HallCode = CITY_HALL


class KioskCreated(BaseModel):
    """The new kiosk and its device key: shown this once, only a hash is kept."""

    kiosk_id: str
    device_key: str
    window: str
    hall: str = CITY_HALL
    department: str | None = None
    label: str | None = None


class KioskOut(BaseModel):
    """A kiosk (never its key)."""

    kiosk_id: str
    window: str
    hall: str = CITY_HALL
    department: str | None = None
    label: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    last_vote_at: datetime | None = None


class KioskVoteIn(BaseModel):
    """A vote on the window desk's button box."""

    window: str = Field(min_length=1, max_length=40)
    score: Score
    indicators: Indicators | None = None
    comment: Comment = None
    application_no: str | None = Field(default=None, max_length=40)
    clerk: str | None = Field(default=None, max_length=120)
