"""Events intake publishes (stream INTAKE, subjects ``intake.>``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from owkernel.contracts._base import EventData, event
from owkernel.contracts.common import Applicant, DeferredMaterial, DeliveryChoice, ItemSnapshot, WindowKind


@event("intake.application.submitted", summary="The applicant submitted; waits for pre-review at the window.")
class ApplicationSubmitted(EventData):
    application_no: str
    item_code: str
    item_version: int
    applicant: Applicant
    # The hall (市/县 政务服务大厅) it happened at, by code; None from producers older than halls (the city's).
    hall: str | None = None


@event(
    "intake.application.accepted",
    summary="Accepted at the window (possibly with deferred materials); carries everything the back office needs.",
)
class ApplicationAccepted(EventData):
    application_no: str
    applicant: Applicant
    item: ItemSnapshot
    window: WindowKind
    clerk: str | None = None
    accepted_at: datetime
    project_no: str | None = None
    stage: int | None = None
    deferred_materials: list[DeferredMaterial] = Field(default_factory=list)
    delivery: DeliveryChoice
    # How it came in: made and submitted by the applicant online, or by a clerk at a window.
    channel: Literal["online", "window"] | None = None
    # For a project's application: the project's declared investment and whether it is a key project.
    project_investment_fen: int | None = None
    project_key: bool | None = None
    # The hall that accepted it (the accepting clerk's); None from producers older than halls.
    hall: str | None = None


@event(
    "intake.catalog_item.changed",
    summary="A catalog item was created, adjusted or cancelled; carries the new version.",
)
class CatalogItemChanged(EventData):
    item: ItemSnapshot
    status: Literal["active", "cancelled"]
    # The investment-project stage (1-4) the item is, if any.
    stage: int | None = None
    changed_at: datetime


@event("intake.application.returned", summary="Sent back to the applicant for correction.")
class ApplicationReturned(EventData):
    application_no: str
    reason: str
    clerk: str | None = None


@event("intake.application.not_accepted", summary="Refused at intake, with the reason.")
class ApplicationNotAccepted(EventData):
    application_no: str
    reason: str
    clerk: str | None = None


SuspensionReason = Literal["deferred_material", "correction", "unpaid_fee", "other"]


@event(
    "intake.application.suspended",
    summary="Waiting for the applicant (a correction, the fee) starts: the clock stops. 容缺 is no wait.",
)
class ApplicationSuspended(EventData):
    application_no: str
    # Several waits can overlap (a correction and a fee); the key pairs a suspension with its
    # resumption, e.g. "correction" or "payment". "deferred_material" was the old 容缺 rule's
    # reason (a wait per deferred material): no longer sent, and ignored by approval.
    key: str
    reason: SuspensionReason
    at: datetime


@event("intake.application.resumed", summary="Waiting for the applicant ends: the clock runs again.")
class ApplicationResumed(EventData):
    application_no: str
    key: str
    at: datetime


@event(
    "intake.material.supplemented",
    summary="A deferred material (容缺) arrived: the last one releases an approved application's certificate.",
)
class MaterialSupplemented(EventData):
    application_no: str
    material_code: str
    at: datetime


@event(
    "intake.material.overdue",
    summary="A deferred material missed its supplement deadline: the applicant's delay, not the department's.",
)
class MaterialOverdue(EventData):
    application_no: str
    material_code: str
    due_date: date


@event("intake.consultation.asked", summary="An online consultation opens a reply clock.")
class ConsultationAsked(EventData):
    consultation_id: str
    item_code: str
    department: str
    asked_at: datetime
    reply_days: int = 1


@event("intake.consultation.replied", summary="A consultation was answered: its reply clock closes.")
class ConsultationReplied(EventData):
    consultation_id: str
    department: str
    replied_at: datetime
    replied_by: str | None = None


@event("intake.visit.recorded", summary="A trip the applicant actually made (window, appointment, pickup).")
class VisitRecorded(EventData):
    id_number: str
    kind: Literal["window", "appointment", "pickup"]
    window: WindowKind | None = None
    application_no: str | None = None
    item_code: str | None = None
    at: datetime
    # The hall (市/县 政务服务大厅) it happened at, by code; None from producers older than halls (the city's).
    hall: str | None = None
