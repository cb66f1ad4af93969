"""Project request and response shapes (docs/api.md "Investment projects")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEPARTMENT = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


class AgencyIn(BaseModel):
    """ "1+1+X" agency service: the lead department, the coordinating office, the others, and the
    officer who carries the project through on the applicant's behalf."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    officer: str = Field(min_length=1, max_length=120)
    lead_department: str = Field(pattern=DEPARTMENT)
    coordinating_office: str = Field(min_length=1, max_length=120)
    departments: list[str] = Field(default_factory=list, max_length=30)


class ProjectCreate(BaseModel):
    """``POST /api/v1/projects``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    investment_fen: int = Field(ge=0, le=10**17)
    key_project: bool = False
    applicant_id_number: str | None = Field(default=None, min_length=15, max_length=18)
    applicant_name: str | None = Field(default=None, min_length=1, max_length=200)
    applicant_kind: Literal["person", "enterprise"] | None = None
    agency: AgencyIn | None = None

    @field_validator("applicant_id_number")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class OwnerOut(BaseModel):
    """Who the project belongs to."""

    id_number: str
    kind: str
    name: str


class AgencyOut(BaseModel):
    """The agency service of a key project."""

    officer: str
    lead_department: str
    coordinating_office: str
    departments: list[str]


class StageOut(BaseModel):
    """One stage: its item, the application carrying it, its deadline and the working days it used."""

    stage: int
    item_code: str
    item_name: str
    departments: list[str]
    lead_department: str
    committed_days: int
    status: str
    application_no: str | None
    deadline: date | None
    accepted_at: datetime | None
    approved_at: datetime | None
    working_days_used: int | None


class ProjectOut(BaseModel):
    """A project and its four stages."""

    project_no: str
    name: str
    investment_fen: int
    key_project: bool
    owner: OwnerOut
    agency: AgencyOut | None
    committed_days: int
    created_at: datetime
    stages: list[StageOut]
