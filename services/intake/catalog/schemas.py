"""Catalog request and response shapes (docs/api.md "Catalog")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from owkernel.halls import HallCode

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
DEPARTMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"

# What makes one version of an item differ from another.
CONTENT_FIELDS = (
    "name",
    "kind",
    "department",
    "departments",
    "lead_department",
    "window",
    "legal_days",
    "committed_days",
    "trips",
    "online",
    "fee_fen",
    "stage",
    "materials",
    "secret",
    "halls",
)

ItemKind = Literal["licensing", "public_service"]
WindowKind = Literal["investment", "commercial", "general"]


class Material(BaseModel):
    """A material an item requires; a missing non-critical one can be deferred (容缺)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    critical: bool = True


class ItemFields(BaseModel):
    """What an administrator says about an item (the code comes from the body or the path)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kind: ItemKind
    department: str | None = Field(default=None, pattern=DEPARTMENT_PATTERN)
    departments: list[str] = Field(default_factory=list, max_length=20)
    lead_department: str | None = Field(default=None, pattern=DEPARTMENT_PATTERN)
    window: WindowKind
    legal_days: int = Field(ge=1, le=365)
    committed_days: int = Field(ge=1, le=365)
    trips: int = Field(ge=0, le=10)
    online: bool = False
    fee_fen: int = Field(default=0, ge=0, le=100_000_000)
    stage: int | None = Field(default=None, ge=1, le=4)
    materials: list[Material] = Field(default_factory=list, max_length=100)
    secret: bool = False
    # The halls (codes) that offer it; empty: every hall.
    halls: list[HallCode] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> ItemFields:
        if self.committed_days > self.legal_days:
            raise ValueError("committed_days cannot be longer than legal_days")
        codes = [m.code for m in self.materials]
        if len(codes) != len(set(codes)):
            raise ValueError("material codes must be unique within an item")
        for d in self.departments:
            if not re.match(DEPARTMENT_PATTERN, d):
                raise ValueError(f"department code {d!r} is not valid")
        departments = list(dict.fromkeys(self.departments))
        if len(departments) >= 2:
            # A parallel item: its lead coordinates, and the lead is the item's department.
            if self.lead_department is None:
                raise ValueError("a parallel item (several departments) names its lead_department")
            if self.lead_department not in departments:
                raise ValueError("lead_department must be one of departments")
            if self.department is not None and self.department not in departments:
                raise ValueError("department must be one of departments")
            self.department = self.department or self.lead_department
            self.departments = departments
        else:
            single = departments[0] if departments else None
            owner = self.department or single or self.lead_department
            if owner is None:
                raise ValueError("an item names its department")
            if any(d is not None and d != owner for d in (single, self.lead_department, self.department)):
                raise ValueError("a single-department item names one department")
            self.department = owner
            self.departments = []
            self.lead_department = None
        self.halls = sorted(set(self.halls))
        return self

    def content(self) -> dict[str, Any]:
        """The item's content in the canonical form versions are compared by."""
        dumped = self.model_dump(mode="json")
        return {name: dumped[name] for name in CONTENT_FIELDS}


class ItemCreate(ItemFields):
    """``POST /api/v1/catalog/items``."""

    code: str = Field(pattern=CODE_PATTERN)


class ItemUpdate(ItemFields):
    """``PUT /api/v1/catalog/items/{code}``: the whole item again (the code may be repeated)."""

    code: str | None = Field(default=None, pattern=CODE_PATTERN)


class ItemOut(BaseModel):
    """An item as the front ends see it."""

    code: str
    name: str
    kind: str
    department: str
    window: str
    legal_days: int
    committed_days: int
    trips: int
    online: bool
    fee_fen: int
    materials: list[Material]
    departments: list[str]
    lead_department: str | None
    stage: int | None
    secret: bool
    # The halls that offer it; empty: every hall.
    halls: list[str] = Field(default_factory=list)
    version: int
    status: Literal["active", "cancelled"]
    updated_at: datetime


class VersionOut(BaseModel):
    """One version in an item's history."""

    version: int
    change: Literal["created", "adjusted", "cancelled"]
    changed_by: str
    changed_at: datetime
    changes: dict[str, Any]
    item: dict[str, Any]


class ImportProblem(BaseModel):
    """Why one item of an import file was not taken."""

    code: str | None
    reason: str


class ImportResult(BaseModel):
    """What an import did; importing the same file again lists everything as unchanged."""

    items: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    skipped: list[ImportProblem]
    departments: list[str]


class ShareFigures(BaseModel):
    """The published figures of a set of items."""

    items: int
    zero_or_one_trip_share: float
    online_share: float


class ItemTrips(BaseModel):
    """Declared trips beside the trips applicants actually made, for one item."""

    item_code: str
    name: str
    declared_trips: int
    applications: int
    average_trips_made: float
    max_trips_made: int
    over_declared: int


class TripsMade(BaseModel):
    """The "only one trip" promise checked against what happened (accepted applications on)."""

    applications: int
    within_declared: int
    within_declared_share: float | None
    items: list[ItemTrips]


class StatsOut(BaseModel):
    """``GET /api/v1/catalog/stats``: computed from the catalog and the recorded visits."""

    items: int
    zero_or_one_trip_share: float
    online_share: float
    cancelled_items: int
    departments: int
    by_kind: dict[str, ShareFigures]
    by_window: dict[str, ShareFigures]
    trips_made: TripsMade
