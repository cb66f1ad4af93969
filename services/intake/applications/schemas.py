"""Application request and response shapes (docs/api.md "Applications")."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from owkernel.halls import HallCode

Status = Literal["draft", "submitted", "returned", "accepted", "not_accepted", "approved", "rejected", "completed"]
PaymentStatus = Literal["not_required", "unpaid", "paid"]
MAX_FORM_BYTES = 64 * 1024


class AddressIn(BaseModel):
    """A delivery address down to the village: the 12-digit administrative division code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    region_code: str = Field(pattern=r"^\d{12}$")
    detail: str = Field(min_length=1, max_length=300)
    recipient: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=r"^\+?[0-9][0-9 -]{4,19}$")


class DeliveryIn(BaseModel):
    """How the certificate reaches the applicant: mailed free of charge, or collected."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["mail", "window"]
    address: AddressIn | None = None

    @model_validator(mode="after")
    def _mail_needs_address(self) -> DeliveryIn:
        if self.method == "mail" and self.address is None:
            raise ValueError("mail delivery needs an address")
        return self


class ApplicationCreate(BaseModel):
    """``POST /api/v1/applications``: an applicant for themselves, or a clerk at the window."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_code: str = Field(min_length=1, max_length=40)
    project_no: str | None = Field(default=None, max_length=32)
    applicant_id_number: str | None = Field(default=None, min_length=15, max_length=18)
    applicant_name: str | None = Field(default=None, min_length=1, max_length=200)
    applicant_phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    applicant_kind: Literal["person", "enterprise"] | None = None
    form: dict[str, JsonValue] = Field(default_factory=dict)
    delivery: DeliveryIn = Field(default_factory=lambda: DeliveryIn(method="window"))
    # The hall (GET /api/v1/halls); by default the clerk's at a window, else the city's ("CITY").
    hall: HallCode | None = None

    @field_validator("applicant_id_number")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("form")
    @classmethod
    def _small_form(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_FORM_BYTES:
            raise ValueError(f"the form may hold at most {MAX_FORM_BYTES} bytes")
        return value


class AcceptanceIn(BaseModel):
    """The clerk's pre-review decision."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["accept", "return", "reject"]
    deferred_materials: list[str] = Field(default_factory=list, max_length=100)
    reason: str = Field(default="", max_length=2000)


class MaterialOut(BaseModel):
    """One material of an application."""

    code: str
    name: str
    critical: bool
    status: Literal["missing", "uploaded", "deferred", "supplied", "overdue"]
    sha256: str | None = None
    size: int | None = None
    content_type: str | None = None
    uploaded_at: datetime | None = None
    due_date: date | None = None
    supplied_at: datetime | None = None


class DeferredOut(BaseModel):
    """A material accepted as missing (容缺), with its supplement deadline."""

    code: str
    name: str
    due_date: date | None
    supplied_at: datetime | None
    overdue: bool


class PaymentOut(BaseModel):
    """The fee and its payment (read by the gateway's payment stub)."""

    status: PaymentStatus
    payment_id: str | None
    amount_fen: int
    paid_at: datetime | None


class CertificateOut(BaseModel):
    """The certificate approval issued."""

    certificate_no: str
    verification_code: str
    issued_on: date


class TimelineOut(BaseModel):
    """One step, whichever service made it."""

    at: datetime
    event: str
    detail: dict[str, Any]


class ApplicantOut(BaseModel):
    """Who applied."""

    id_number: str
    kind: str
    name: str
    phone: str | None
    subject_id: str | None


class ApplicationView(BaseModel):
    """``GET /api/v1/applications/{no}``: the whole application and its timeline."""

    application_no: str
    status: Status
    item_code: str
    item_version: int
    item_name: str
    item: dict[str, Any]
    window: str
    hall: str
    # The hall whose clerk accepted it (None until accepted).
    accepted_hall: str | None = None
    department: str
    departments: list[str]
    channel: Literal["online", "window"]
    applicant: ApplicantOut
    project_no: str | None
    stage: int | None
    form: dict[str, Any]
    deadline: date | None
    materials: list[MaterialOut]
    deferred_materials: list[DeferredOut]
    delivery: dict[str, Any]
    fee_fen: int
    payment: PaymentOut
    certificate: CertificateOut | None
    # 容缺: the deferred materials the certificate waits for (it is issued when the last arrives).
    certificate_waits_for: list[str] = Field(default_factory=list)
    clerk: str | None
    reason: str | None
    working_days_used: int | None
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    decided_at: datetime | None
    completed_at: datetime | None
    timeline: list[TimelineOut]


class ApplicationSummary(BaseModel):
    """One line of the list."""

    application_no: str
    status: Status
    item_code: str
    item_name: str
    item_version: int
    window: str
    hall: str
    department: str
    applicant: ApplicantOut
    project_no: str | None
    stage: int | None
    deadline: date | None
    fee_fen: int
    payment_status: PaymentStatus
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    decided_at: datetime | None
    completed_at: datetime | None
