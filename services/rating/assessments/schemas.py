"""Request and response shapes of the monthly assessment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class AssessmentIn(BaseModel):
    """Compute (and publish) a month's assessment; weights default to the configured ones."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])
    weights: dict[str, float] | None = None


class AssessmentOut(BaseModel):
    """One window's or department's score, with its breakdown."""

    month: str
    scope: Literal["window", "department", "hall"]
    key: str
    # The hall whose window or department it is (for scope "hall": the hall itself).
    hall: str = "CITY"
    score: float
    breakdown: list[dict[str, Any]]
    weights: dict[str, float]
    computed_at: datetime


class AssessmentRun(BaseModel):
    """The assessments a computation published."""

    month: str
    items: list[AssessmentOut]
    # Each hall as a whole (scope "hall"), apart so ``items`` stays the windows' and departments'.
    halls: list[AssessmentOut] = []
