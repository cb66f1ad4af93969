"""Shapes of the published figures, the projects' working days and the history import."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from owkernel.halls import CITY_HALL, HALL_CODE_PATTERN

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
HALL = HALL_CODE_PATTERN


class ProjectFigures(BaseModel):
    """Investment projects handled: how many, how many key ones, their investment."""

    count: int
    key: int
    investment_fen: int


class MonthFigures(BaseModel):
    """One month's (or the period's) figures; shares are None when nothing was there to count."""

    applications: int
    online_share: float | None
    zero_trip_share: float | None
    one_trip_share: float | None
    deferred_share: float | None
    on_time_rate: float | None
    red_cards: int
    consultations_on_time_rate: float | None
    satisfaction_rate: float | None
    projects: ProjectFigures


class MonthRow(MonthFigures):
    """A month: computed from events, or imported from what the center published before."""

    month: str
    source: Literal["computed", "imported"]


class FiguresOut(BaseModel):
    """``GET /api/v1/figures``."""

    hall: str | None
    months: list[MonthRow]
    total: MonthFigures


class HistoryMonth(BaseModel):
    """One month as the center published it (shares between 0 and 1)."""

    model_config = ConfigDict(extra="forbid")

    month: str = Field(pattern=MONTH)
    hall: str = Field(default=CITY_HALL, pattern=HALL)
    applications: int = Field(ge=0, le=100_000_000)
    online_share: float | None = Field(default=None, ge=0, le=1)
    zero_trip_share: float | None = Field(default=None, ge=0, le=1)
    one_trip_share: float | None = Field(default=None, ge=0, le=1)
    deferred_share: float | None = Field(default=None, ge=0, le=1)
    on_time_rate: float | None = Field(default=None, ge=0, le=1)
    red_cards: int = Field(default=0, ge=0, le=100_000_000)
    consultations_on_time_rate: float | None = Field(default=None, ge=0, le=1)
    satisfaction_rate: float | None = Field(default=None, ge=0, le=1)
    projects_count: int = Field(default=0, ge=0, le=100_000_000)
    projects_key: int = Field(default=0, ge=0, le=100_000_000)
    projects_investment_fen: int = Field(default=0, ge=0, le=10**17)


class HistoryIn(BaseModel):
    """``POST /api/v1/figures/history`` as JSON."""

    model_config = ConfigDict(extra="forbid")

    months: list[HistoryMonth] = Field(min_length=1, max_length=2400)


class HistoryResult(BaseModel):
    """What an import stored."""

    imported: int
    months: list[str]
    halls: list[str]


class StageUse(BaseModel):
    """The working days approved stages really used."""

    projects: int
    average_working_days: float | None
    max_working_days: int | None


class StageFigures(BaseModel):
    """One of the four stages: its catalog items, departments and committed working days."""

    stage: int
    items: list[str]
    departments: list[str]
    committed_days: int
    used: StageUse


class ProjectsOut(BaseModel):
    """``GET /api/v1/figures/projects``."""

    stages: list[StageFigures]
    # Stages in order, the departments of a stage together: the sum of the stages' promises.
    parallel_total: int
    # Every department of every stage one after another.
    sequential_total: int
