"""Consultation request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ConsultationIn(BaseModel):
    """``POST /api/v1/consultations``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_code: str = Field(min_length=1, max_length=40)
    question: str = Field(min_length=1, max_length=4000)


class ReplyIn(BaseModel):
    """``POST /api/v1/consultations/{id}/reply``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: str = Field(min_length=1, max_length=8000)


class ConsultationOut(BaseModel):
    """A consultation and its reply clock."""

    consultation_id: str
    item_code: str
    item_name: str
    department: str
    question: str
    asked_by: str | None
    asked_at: datetime
    reply_days: int
    status: Literal["open", "replied"]
    answer: str | None
    replied_by: str | None
    replied_at: datetime | None
    due_date: date | None
    on_time: bool | None
