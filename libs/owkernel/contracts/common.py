"""Value shapes that several events carry (event-carried state)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from owkernel.contracts._base import EventData

SubjectKind = Literal["person", "enterprise"]
WindowKind = Literal["investment", "commercial", "general"]
ClockKind = Literal["task", "stage", "application", "consultation", "rectification"]


class Applicant(EventData):
    """Who applied: the identity number is the key every service shares."""

    id_number: str
    kind: SubjectKind
    name: str
    phone: str | None = None
    # The gateway account's subject, when the applicant has one (a clerk may apply for
    # someone who has never registered).
    subject_id: str | None = None


class ItemSnapshot(EventData):
    """The catalog item's version an application was made under."""

    code: str
    version: int
    name: str
    kind: Literal["licensing", "public_service"]
    department: str
    # For a parallel item, every deciding department and the lead; otherwise [department].
    departments: list[str]
    lead_department: str | None = None
    window: WindowKind
    legal_days: int
    committed_days: int
    trips: int
    fee_fen: int
    # A secret item is never done online; the published online share leaves it out.
    secret: bool = False


class Address(EventData):
    """A delivery address down to the village (12-digit division code)."""

    region_code: str
    detail: str
    recipient: str
    phone: str


class DeliveryChoice(EventData):
    """How the certificate reaches the applicant."""

    method: Literal["mail", "window"]
    address: Address | None = None


class DeferredMaterial(EventData):
    """A non-critical material accepted as missing (容缺), due by ``due_date``."""

    code: str
    name: str
    due_date: date
